#!/usr/bin/env bash
# smp bare on QEMU, 4 CPUs, all-excluding-self INIT/SIPI/SIPI.
. "$(dirname "$0")/guest.sh"
guest_qemu_bare smp "ipi=broadcast" 4
guest_report smp
finish
