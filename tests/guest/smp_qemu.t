#!/usr/bin/env bash
# smp under lamina on QEMU (AMD-V), 4 CPUs: INIT/SIPI/SIPI to each AP by APIC ID.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina smp "" 4
guest_report smp
finish
