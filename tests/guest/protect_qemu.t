#!/usr/bin/env bash
# protect under lamina on QEMU (AMD-V): the guest cannot write over lamina's memory,
# nor turn it into TSEG through the q35 host bridge, nor lay the LPC bridge's
# registers over it (RCBA), nor send writes to the reset vector's code to
# DRAM (PAM).
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina protect "uart=0x2f8 tseg=1 rcba=1 a20=1 vapic=1 pmbase=1 cmos=1 pam=1 hpet=1" 1
guest_report protect
check_logged_once
check_uart_lines
expect_in "$HVLOG" "pci 00:00.0 \\(8086:29c0\\): guest write of 0x[0-9a-f]+ to register 0x9e \\(1 bytes\\) would change bits 0x7; refused by rule 'memmap: " \
	"lamina logged the refused TSEG write"
expect_in "$HVLOG" "pci 00:1f.0 \\(8086:2918\\): guest write of 0x1de00001 to register 0xf0 \\(4 bytes\\) would change bits 0x[0-9a-f]+; refused by rule 'memmap: " \
	"lamina logged the refused RCBA move"
expect_in "$HVLOG" "pci 00:1f.0 \\(8086:2918\\): guest write of 0x[0-9a-f]+ to register 0x40 \\(4 bytes\\) would change bits 0x1000; refused by rule 'memmap: " \
	"lamina logged the refused PMBASE move"
expect_in "$HVLOG" "pci 00:00.0 \\(8086:29c0\\): guest write of 0x[0-9a-f]+ to register 0x90 \\(1 bytes\\) would change bits 0x20; refused by rule 'memmap: " \
	"lamina logged the refused PAM0 write"
check_port_refusals
check_hpet_refusals
finish
