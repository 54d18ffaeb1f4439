#!/usr/bin/env bash
# smp bare on Bochs Ryzen, 2 CPUs, reinit=restart: an AP that runs comes back after INIT-SIPI-SIPI (proves the kernel's reinit check).
. "$(dirname "$0")/guest.sh"
guest_bochs_bare smp "reinit=restart" $BOCHS_RYZEN 2
guest_report smp
finish
