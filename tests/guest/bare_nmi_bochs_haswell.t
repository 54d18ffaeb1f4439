#!/usr/bin/env bash
# nmi bare on Bochs Haswell, 2 CPUs: what Bochs's CPU does with NMIs.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare nmi "cross=1" $BOCHS_HASWELL 2
guest_report nmi
finish
