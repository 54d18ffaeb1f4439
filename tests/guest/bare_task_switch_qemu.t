#!/usr/bin/env bash
# task_switch bare on QEMU: what QEMU's CPU does on each task switch.
. "$(dirname "$0")/guest.sh"
guest_qemu_bare task_switch "" 1
guest_report task_switch
finish
