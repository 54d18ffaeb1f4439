#!/usr/bin/env bash
# cpu_policy under lamina on Bochs Skylake-X (VT-x, XSAVES, PML): VMX hidden, the rest passes through.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina cpu_policy "$CPUID_SKYLAKE_X" $BOCHS_SKYLAKE 1
guest_report cpu_policy
expect_in "$HVLOG" "the guest tried to load microcode \\(MSR 0x(79|c0010020)\\): dropped" \
	"lamina logged the dropped microcode load"
check_intel_msr_refusals
finish
