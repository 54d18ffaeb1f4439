#!/usr/bin/env bash
# nmi under lamina on Bochs Haswell (VT-x), 2 CPUs: NMIs reach the guest as on bare hardware,
# also those that reach lamina in its own code just before an entry.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina nmi "cross=1" $BOCHS_HASWELL 2
guest_report nmi
finish
