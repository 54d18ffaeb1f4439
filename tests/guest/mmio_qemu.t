#!/usr/bin/env bash
# mmio under lamina on QEMU (AMD-V): every instruction form of the MMIO emulator in 16-, 32- and 64-bit code against lamina's test page (mmiotest=), compared with what the CPU does on RAM.
. "$(dirname "$0")/guest.sh"
PAGE=0x2000000
HV_ARGS="mmiotest=$PAGE"
# ~20 s alone; room for a loaded machine.
QEMU_TIMEOUT=${QEMU_TIMEOUT_MMIO:-120}
guest_qemu_lamina mmio "page=$PAGE" 1
guest_report mmio
expect_in "$HVLOG" "test MMIO page at $PAGE" "lamina serves the test page"
expect_not_in "$HVLOG" "cannot emulate" "lamina emulated every instruction it met"
expect_not_in "$HVLOG" "breaks the mmio_ops contract" "the page saw only accesses of 1, 2, 4 or 8 bytes within it"
check_warning_limit
finish
