#!/usr/bin/env bash
# task_switch bare on Bochs Haswell: what the CPU itself does on each task switch.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare task_switch "t_bit=1" $BOCHS_HASWELL 1
guest_report task_switch
finish
