#!/usr/bin/env bash
# protect under lamina on QEMU (AMD-V): the guest cannot write over lamina's memory.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina protect "uart=0x2f8" 1
guest_report protect
check_logged_once
check_uart_lines
finish
