#!/usr/bin/env bash
# smp under lamina on QEMU (AMD-V), 4 CPUs: INIT/SIPI/SIPI to all-excluding-self.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina smp "ipi=broadcast" 4
guest_report smp
finish
