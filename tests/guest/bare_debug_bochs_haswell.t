#!/usr/bin/env bash
# debug bare on Bochs Haswell: what the CPU does on each #DB and #AC.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare debug "gd=1 int1=1 ac=1" $BOCHS_HASWELL 1
guest_report debug
finish
