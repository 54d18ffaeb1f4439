#!/usr/bin/env bash
# protect under lamina on Bochs Skylake-X (VT-x): the guest cannot write over lamina's memory.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina protect "uart=0x2f8 a20=1 pmbase=1 smram=1 cmos=1" $BOCHS_SKYLAKE 1
guest_report protect
check_logged_once
check_uart_lines
for how in "port 0x92" "keyboard controller command 0xdd" "keyboard controller output port"; do
	expect_in "$HVLOG" "the guest tried to close the A20 gate \\($how\\): lamina keeps it open" \
		"lamina logged the refused A20 close ($how)"
done
expect_in "$HVLOG" "pci 00:01.3 \\(8086:7113\\): guest write of 0x[0-9a-f]+ to register 0x40 \\(4 bytes\\) would change bits 0x1000; refused by rule 'memmap: " \
	"lamina logged the refused PMBA move"
expect_in "$HVLOG" "pci 00:00.0 \\(8086:1237\\): guest write of 0x[0-9a-f]+ to register 0x72 \\(1 bytes\\) would change bits 0x40; refused by rule 'memmap: " \
	"lamina logged the refused SMRAM opening"
expect_in "$HVLOG" "the guest's write of 0xa to the CMOS shutdown byte was dropped" \
	"lamina logged the dropped CMOS shutdown byte"
finish
