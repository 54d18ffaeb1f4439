#!/usr/bin/env bash
# protect bare on Bochs Skylake-X (440FX, PIIX4): the PM block moves and
# SMRAM opens when lamina is not there to keep them.
. "$(dirname "$0")/guest.sh"
guest_bochs_bare protect "pmbase=1 smram=1 cmos=1 pam=1 hpet=1" $BOCHS_SKYLAKE 1
guest_report protect
finish
