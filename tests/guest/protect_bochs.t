#!/usr/bin/env bash
# protect under lamina on Bochs Skylake-X (VT-x): the guest cannot write over lamina's memory.
. "$(dirname "$0")/guest.sh"
# Every 256th page rather than every 64th: Bochs is ~10x slower.
guest_bochs_lamina protect "stride=256" $BOCHS_SKYLAKE 1
guest_report protect
check_logged_once
finish
