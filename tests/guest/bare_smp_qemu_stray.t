#!/usr/bin/env bash
# smp bare on QEMU, 4 CPUs, stray: the fixed IPIs sent before the SIPIs do
# not keep APs from starting on the machine itself (proves the check).
. "$(dirname "$0")/guest.sh"
guest_qemu_bare smp "stray" 4
guest_report smp
finish
