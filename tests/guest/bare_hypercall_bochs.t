#!/usr/bin/env bash
# hypercall bare on Bochs Haswell: boot contract of GRUB's multiboot loader.
. "$(dirname "$0")/guest.sh"
with_module "extra args"
guest_bochs_bare hypercall "modules=1" $BOCHS_HASWELL 1
guest_report hypercall
finish
