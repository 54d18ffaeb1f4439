#!/usr/bin/env bash
# cpu_policy bare on Bochs Haswell.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare cpu_policy "$CPUID_HASWELL" $BOCHS_HASWELL 1
guest_report cpu_policy
finish
