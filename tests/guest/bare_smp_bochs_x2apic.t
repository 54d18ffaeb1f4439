#!/usr/bin/env bash
# smp bare on Bochs Skylake-X, 4 CPUs, x2APIC.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare smp "x2apic" $BOCHS_SKYLAKE 4
guest_report smp
finish
