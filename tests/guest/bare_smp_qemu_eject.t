#!/usr/bin/env bash
# smp bare on QEMU, 4 CPUs, eject: the guest ejects the first AP through
# QEMU's ACPI CPU hot-plug registers and QEMU removes it (proves the
# check in smp_qemu_eject.t).
. "$(dirname "$0")/guest.sh"
guest_qemu_bare smp "eject" 4
guest_report smp
finish
