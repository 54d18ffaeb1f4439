#!/usr/bin/env bash
# nmi under lamina on QEMU (AMD-V), 2 CPUs: NMIs reach the guest as on bare hardware, none nests in its handler.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina nmi "cross=1" 2
guest_report nmi
finish
