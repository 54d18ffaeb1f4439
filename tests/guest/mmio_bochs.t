#!/usr/bin/env bash
# mmio under lamina on Bochs Skylake-X (VT-x): every instruction form of the MMIO emulator in 16-, 32- and 64-bit code against lamina's test page (mmiotest=), reached through EPT violations, compared with what the CPU does on RAM.
# mmio_bochs_ryzen.t runs this on AMD-V (MMIO_MODEL, with the kernel options MMIO_EXTRA).
. "$(dirname "$0")/guest.sh"
MMIO_MODEL=${MMIO_MODEL:-$BOCHS_SKYLAKE}
PAGE=0x2000000
HV_ARGS="mmiotest=$PAGE"
# ~45 s alone; room for a loaded machine.
BOCHS_TIMEOUT=${BOCHS_TIMEOUT_MMIO:-400}
guest_bochs_lamina mmio "page=$PAGE tsc_back=1${MMIO_EXTRA:+ $MMIO_EXTRA}" "$MMIO_MODEL" 1
guest_report mmio
expect_in "$HVLOG" "test MMIO page at $PAGE" "lamina serves the test page"
expect_not_in "$HVLOG" "cannot emulate" "lamina emulated every instruction it met"
expect_not_in "$HVLOG" "breaks the mmio_ops contract" "the page saw only accesses of 1, 2, 4 or 8 bytes within it"
check_warning_limit
finish
