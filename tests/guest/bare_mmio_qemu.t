#!/usr/bin/env bash
# mmio bare on QEMU: the page is RAM, so every form matches trivially; this checks the harness.
. "$(dirname "$0")/guest.sh"
guest_qemu_bare mmio "page=0x2000000" 1
guest_report mmio
finish
