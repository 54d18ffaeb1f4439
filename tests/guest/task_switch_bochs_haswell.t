#!/usr/bin/env bash
# task_switch under lamina on Bochs Haswell (VT-x): every task switch exits and lamina emulates it.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina task_switch "t_bit=1" $BOCHS_HASWELL 1
guest_report task_switch
finish
