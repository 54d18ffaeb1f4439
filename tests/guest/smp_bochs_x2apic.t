#!/usr/bin/env bash
# smp under lamina on Bochs Skylake-X (VT-x), 2 CPUs, x2APIC: IPIs through the ICR MSR.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina smp "x2apic" $BOCHS_SKYLAKE 2
guest_report smp
finish
