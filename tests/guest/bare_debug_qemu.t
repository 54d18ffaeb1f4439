#!/usr/bin/env bash
# debug bare on QEMU: what QEMU's CPU does on each #DB and #AC.
. "$(dirname "$0")/guest.sh"
guest_qemu_bare debug "" 1
guest_report debug
finish
