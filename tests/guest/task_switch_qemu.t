#!/usr/bin/env bash
# task_switch under lamina on QEMU (AMD-V): the CPU runs the task switches, no exits.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina task_switch "" 1
guest_report task_switch
finish
