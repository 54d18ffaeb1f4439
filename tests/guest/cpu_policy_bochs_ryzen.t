#!/usr/bin/env bash
# cpu_policy under lamina on Bochs Ryzen (AMD-V with NRIPS, Bochs's own SVM): SVM hidden, the rest of the CPU passes through.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina cpu_policy "$CPUID_RYZEN" $BOCHS_RYZEN 1
guest_report cpu_policy
expect_in "$HVLOG" 'AMD-V: .*NRIPS on' "lamina takes the next RIP from NRIPS"
expect_in "$HVLOG" "the guest tried to change TOP_MEM \\(C001_001A\\) from 0x[0-9a-f]+ to 0x[0-9a-f]+: refused" \
	"lamina logged the refused TOP_MEM write"
expect_in "$HVLOG" "the guest tried to load microcode \\(MSR 0x(79|c0010020)\\): dropped" \
	"lamina logged the dropped microcode load"
check_amd_voltage_refusal
finish
