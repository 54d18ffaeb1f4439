#!/usr/bin/env bash
# cpu_policy under lamina on Bochs Phenom (AMD-V with nested paging but no NRIPS, as on QEMU, in a second SVM implementation): lamina decodes each intercepted instruction for its length.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina cpu_policy "$CPUID_PHENOM" $BOCHS_PHENOM 1
guest_report cpu_policy
expect_in "$HVLOG" 'AMD-V: .*NRIPS off' "lamina finds the next RIP itself without NRIPS"
expect_in "$HVLOG" "the guest tried to load microcode \\(MSR 0x(79|c0010020)\\): dropped" \
	"lamina logged the dropped microcode load"
check_amd_voltage_refusal
finish
