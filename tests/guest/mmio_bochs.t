#!/usr/bin/env bash
# mmio under lamina on Bochs Haswell (VT-x, GRUB multiboot2): every instruction form of the MMIO emulator in 16-, 32- and 64-bit code against lamina's test page (mmiotest=), compared with what the CPU does on RAM.
. "$(dirname "$0")/guest.sh"
PAGE=0x2000000
HV_ARGS="mmiotest=$PAGE"
# Two cases per form and size rather than eight: Bochs is ~10x slower and
# every access to the page is a VM exit. Every form still runs in every
# mode. About 1-2 minutes; room for a loaded machine.
BOCHS_TIMEOUT=${BOCHS_TIMEOUT_MMIO:-300}
guest_bochs_lamina mmio "page=$PAGE cases=2" $BOCHS_HASWELL 1
guest_report mmio
expect_in "$HVLOG" "test MMIO page at $PAGE" "lamina serves the test page"
expect_not_in "$HVLOG" "cannot emulate" "lamina emulated every instruction it met"
finish
