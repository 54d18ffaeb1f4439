#!/usr/bin/env bash
# protect under lamina on Bochs Skylake-X (VT-x): the guest cannot write over lamina's memory.
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina protect "uart=0x2f8 a20=1" $BOCHS_SKYLAKE 1
guest_report protect
check_logged_once
check_uart_lines
for how in "port 0x92" "keyboard controller command 0xdd" "keyboard controller output port"; do
	expect_in "$HVLOG" "the guest tried to close the A20 gate \\($how\\): lamina keeps it open" \
		"lamina logged the refused A20 close ($how)"
done
finish
