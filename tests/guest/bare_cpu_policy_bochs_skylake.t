#!/usr/bin/env bash
# cpu_policy bare on Bochs Skylake-X.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare cpu_policy "$CPUID_SKYLAKE_X" $BOCHS_SKYLAKE 1
guest_report cpu_policy
finish
