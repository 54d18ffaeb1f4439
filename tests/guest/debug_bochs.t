#!/usr/bin/env bash
# debug under lamina on Bochs Haswell (VT-x): #DB and #AC exit and reach the guest as on bare hardware;
# an endless #AC chain on the second CPU is an exit each time.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina debug "gd=1 int1=1 ac=1 ac_loop=1" $BOCHS_HASWELL 2
guest_report debug
finish
