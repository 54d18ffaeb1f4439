#!/usr/bin/env bash
# protect under lamina on Bochs Ryzen (AMD-V): the guest cannot write over lamina's memory.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina protect "uart=0x2f8 a20=1 pmbase=1 smram=1 cmos=1 pam=1 hpet=1" $BOCHS_RYZEN 1
guest_report protect
check_logged_once
check_uart_lines
check_port_refusals
check_pc_chipset_refusals
check_hpet_refusals
finish
