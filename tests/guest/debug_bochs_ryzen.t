#!/usr/bin/env bash
# debug under lamina on Bochs Ryzen (AMD-V): #DB and #AC exit and reach the guest; Bochs 2.7 leaves DR6 and DR7.GD
# alone at a #DB intercept, which AMD CPUs update first (see debug.c).
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina debug "gd=1 int1=1 ac=1 stale_dr6=1 ac_loop=1" $BOCHS_RYZEN 2
guest_report debug
finish
