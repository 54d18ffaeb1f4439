#!/usr/bin/env bash
# smp under lamina on Bochs Haswell (VT-x), 2 CPUs, xAPIC.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina smp "" $BOCHS_HASWELL 2
guest_report smp
finish
