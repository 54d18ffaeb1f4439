#!/usr/bin/env bash
# smp bare on QEMU, 4 CPUs, targeted INIT/SIPI/SIPI.
. "$(dirname "$0")/guest.sh"
guest_qemu_bare smp "" 4
guest_report smp
finish
