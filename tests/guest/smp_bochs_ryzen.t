#!/usr/bin/env bash
# smp under lamina on Bochs Ryzen (AMD-V), 4 CPUs: INIT/SIPI/SIPI to each AP by APIC ID, caught at the sender's xAPIC ICR.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina smp "" $BOCHS_RYZEN 4
guest_report smp
finish
