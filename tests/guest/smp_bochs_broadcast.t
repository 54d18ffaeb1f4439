#!/usr/bin/env bash
# smp under lamina on Bochs Haswell (VT-x), 4 CPUs: INIT/SIPI/SIPI to all-excluding-self; each AP leaves wait-for-SIPI at the vector.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina smp "ipi=broadcast" $BOCHS_HASWELL 4
guest_report smp
finish
