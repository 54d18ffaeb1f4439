#!/usr/bin/env bash
# smp under lamina on Bochs Ryzen (AMD-V), 4 CPUs: INIT/SIPI/SIPI to all-excluding-self, caught at the sender's xAPIC ICR.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina smp "ipi=broadcast" $BOCHS_RYZEN 4
guest_report smp
finish
