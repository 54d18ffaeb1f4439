#!/usr/bin/env bash
# nmi bare on QEMU, 2 CPUs: what QEMU's CPU does with NMIs.
. "$(dirname "$0")/guest.sh"
guest_qemu_bare nmi "cross=1" 2
guest_report nmi
finish
