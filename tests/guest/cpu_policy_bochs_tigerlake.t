#!/usr/bin/env bash
# cpu_policy under lamina on Bochs Tiger Lake (VT-x with CET): CR0.WP and CR4.CET checked as the CPU does.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina cpu_policy "" tigerlake 1
guest_report cpu_policy
expect_in "$HVLOG" "the guest tried to load microcode \\(MSR 0x(79|c0010020)\\): dropped" \
	"lamina logged the dropped microcode load"
check_intel_msr_refusals
finish
