#!/usr/bin/env bash
# mmio bare on Bochs Haswell: the page is RAM, so every form matches trivially; this checks the harness on Bochs's CPU.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare mmio "page=0x2000000 cases=2" $BOCHS_HASWELL 1
guest_report mmio
finish
