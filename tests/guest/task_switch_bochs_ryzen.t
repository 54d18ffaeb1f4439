#!/usr/bin/env bash
# task_switch under lamina on Bochs Ryzen (AMD-V): the CPU runs the task switches, the T bit included.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina task_switch "t_bit=1 stale_dr6=1" $BOCHS_RYZEN 1
guest_report task_switch
finish
