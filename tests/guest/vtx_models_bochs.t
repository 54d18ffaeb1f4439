#!/usr/bin/env bash
# lamina on older Intel models in Bochs: it needs EPT and unrestricted
# guest, and says which one is missing (Core 2 Penryn: VMX without EPT;
# Nehalem Lynnfield: EPT without unrestricted guest) instead of starting the
# guest; Westmere Arrandale has both but no 1 GiB EPT pages, and cpu_policy
# passes there with 2 MiB ones.
. "$(dirname "$0")/guest.sh"

# refuses MODEL WHAT WHAT_REGEX
refuses() {
	local model=$1 what=$2 re=$3
	RUN_WATCH=$WORK/com2.log MARKER="lamina stays up" BOCHS_TIMEOUT=60 \
		guest_bochs_lamina cpu_policy "" "$model" 1
	expect_in "$HVLOG" "ERROR: this CPU's VT-x lacks $re, which lamina needs" \
		"$model: lamina says the CPU lacks $what"
	expect_not_in "$LOG" '^# lamina-test: start' "$model: the guest does not start"
	expect_not_in "$HVLOG" '[Pp][Aa][Nn][Ii][Cc]' "$model: lamina did not panic"
}

refuses core2_penryn_t9600 EPT "EPT \\(extended page tables\\)"
refuses corei5_lynnfield_750 "unrestricted guest" "unrestricted guest"

guest_bochs_lamina cpu_policy "" corei5_arrandale_m520 1
guest_report cpu_policy
expect_in "$HVLOG" 'VT-x: .*largest page 2 MiB' "Westmere: EPT with 2 MiB pages at most"
expect_in "$HVLOG" 'nested page tables: .* 0 x 1 GiB' "Westmere: no 1 GiB pages in the EPT"
finish
