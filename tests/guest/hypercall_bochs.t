#!/usr/bin/env bash
# hypercall under lamina on Bochs Haswell (VT-x, GRUB multiboot2): the Multiboot contract and the hypercall ABI.
. "$(dirname "$0")/guest.sh"
with_module "extra args"
guest_bochs_lamina hypercall "modules=1" $BOCHS_HASWELL 1
guest_report hypercall
expect_in "$HVLOG" 'TSC: [0-9]+\.[0-9]{3} MHz \(PIT channel 2\)' "lamina timed its TSC against the PIT"
finish
