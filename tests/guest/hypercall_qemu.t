#!/usr/bin/env bash
# hypercall under lamina on QEMU (AMD-V): the Multiboot contract and the hypercall ABI.
. "$(dirname "$0")/guest.sh"
with_module "extra args"
guest_qemu_lamina hypercall "modules=1" 2
guest_report hypercall
expect_in "$HVLOG" 'TSC: [0-9]+\.[0-9]{3} MHz \(PIT channel 2\)' "lamina timed its TSC against the PIT"
finish
