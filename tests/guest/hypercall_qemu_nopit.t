#!/usr/bin/env bash
# hypercall under lamina on QEMU without a PIT (-machine pit=off): lamina
# cannot time its TSC against PIT channel 2, says so, falls back (EPYC-Rome
# has no CPUID frequency leaves: 1 GHz assumed, with an error saying what
# that costs) and runs the guest as usual instead of waiting for the PIT.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina hypercall "" 1 -machine pit=off
guest_report hypercall
expect_in "$HVLOG" 'TSC: the PIT gave no usable measurement \(0 kHz\); trying CPUID' \
	"lamina says the PIT gave no measurement"
expect_in "$HVLOG" 'TSC: frequency unknown; assuming 1 GHz' "lamina says what it assumes instead"
expect_in "$HVLOG" 'TSC: 1000\.000 MHz \(assumed\)' "lamina names the source of its TSC frequency"
finish
