#!/usr/bin/env bash
# hypercall bare on QEMU: boot contract of QEMU's own loader, ring 3, 64-bit visits.
. "$(dirname "$0")/guest.sh"
with_module "extra args"
guest_qemu_bare hypercall "modules=1" 2
guest_report hypercall
finish
