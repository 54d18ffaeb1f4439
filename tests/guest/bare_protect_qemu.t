#!/usr/bin/env bash
# protect bare on QEMU: its stores and loads of every width work on RAM.
. "$(dirname "$0")/guest.sh"
guest_qemu_bare protect "tseg=1 rcba=1 a20=1 vapic=1 pmbase=1 cmos=1 pam=1 hpet=1" 1
guest_report protect
finish
