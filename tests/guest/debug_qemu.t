#!/usr/bin/env bash
# debug under lamina on QEMU (AMD-V): #DB and #AC exit and reach the guest as on bare hardware.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina debug "" 1
guest_report debug
finish
