#!/usr/bin/env bash
# cpu_policy under lamina on Bochs Ryzen (AMD-V with NRIPS, Bochs's own SVM): SVM hidden, the rest of the CPU passes through.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina cpu_policy "$CPUID_RYZEN" $BOCHS_RYZEN 1
guest_report cpu_policy
expect_in "$HVLOG" 'AMD-V: .*NRIPS on' "lamina takes the next RIP from NRIPS"
finish
