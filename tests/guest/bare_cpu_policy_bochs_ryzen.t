#!/usr/bin/env bash
# cpu_policy bare on Bochs Ryzen.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare cpu_policy "$CPUID_RYZEN" $BOCHS_RYZEN 1
guest_report cpu_policy
finish
