#!/usr/bin/env bash
# smp bare on QEMU, 4 CPUs, extint: the ExtINTs sent to the first AP
# before its SIPIs reach it (the 8259 acknowledged) and do not keep the
# APs from starting on the machine itself (proves the check).
. "$(dirname "$0")/guest.sh"
guest_qemu_bare smp "extint" 4
guest_report smp
finish
