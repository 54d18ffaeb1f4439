#!/usr/bin/env bash
# cpu_policy bare on Bochs Phenom.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare cpu_policy "$CPUID_PHENOM" $BOCHS_PHENOM 1
guest_report cpu_policy
finish
