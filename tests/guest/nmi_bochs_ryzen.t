#!/usr/bin/env bash
# nmi under lamina on Bochs Ryzen (AMD-V), 2 CPUs: NMIs reach the guest as on bare hardware.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina nmi "cross=1" $BOCHS_RYZEN 2
guest_report nmi
finish
