#!/usr/bin/env bash
# smp bare on Bochs Haswell, 2 CPUs, xAPIC.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare smp "" $BOCHS_HASWELL 2
guest_report smp
finish
