#!/usr/bin/env bash
# conceal= fails closed: a malformed value, or an entry that matches no PCI
# function, stops lamina before the guest starts, with a message saying
# what is wrong; a function that answers outside its BARs (VGA, an ISA
# bridge) is refused, and so is function 0 of a multi-function device
# without the others; a good value lets the guest start; given twice, both
# words count. nomsi= (the same parser and check) likewise. A stray device
# selector (a list written with a space) or a near miss of conceal= stops
# it as well.
. "$(dirname "$0")/../guest/guest.sh"
need_built "$LAMINA" "$GUEST_DIR/hypercall.elf"
kernel="$GUEST_DIR/hypercall.elf hypercall.elf"
STAYS='lamina stays up with no guest running'

refused() { # refused NAME LAMINA-ARGS MESSAGE-REGEX [QEMU-ARGS...]
	local log=$WORK/$1.log
	qemu_lamina "$log" "$STAYS" 60 1 256 "$2" "$kernel" "${@:4}"
	expect_in "$log" "$3" "$1: the message says what is wrong"
	expect_in "$log" "$STAYS" "$1: the guest does not start"
	expect_not_in "$log" 'starting the .* guest' "$1: no guest was started"
}

refused malformed "conceal=00:02.0,zz" \
	"option 'conceal=00:02.0,zz': entry 'zz' is neither BB:DD.F nor VVVV:DDDD .*; expected conceal=BB:DD.F\\[,BB:DD.F...\\] or VVVV:DDDD\\[,...\\]; refusing to start the guest"
refused bad_device "conceal=00:20.0" "entry '00:20.0': device is 00-1f, function 0-7"
refused empty "conceal=" "option 'conceal=': expected conceal=.*refusing to start the guest"
refused no_such_function "conceal=00:05.0" \
	"conceal=: no PCI function at 00:05.0 was concealed; refusing to start the guest"
refused no_such_id "conceal=1234:5678" \
	"conceal=: no PCI function 1234:5678 was concealed; refusing to start the guest"
# Given twice, both lists count: the first word's entry is not dropped.
refused twice "conceal=00:05.0 conceal=00:02.0" \
	"conceal=: no PCI function at 00:05.0 was concealed; refusing to start the guest"
# Functions that answer outside their BARs cannot be hidden by trapping them.
refused vga "conceal=00:01.0" \
	"pci 00:01.0 \\(1234:1111\\): conceal: class 030000: a VGA device answers at memory 0xa0000-0xbffff and ports 0x3b0-0x3df besides its BARs, which lamina cannot hide"
refused isa_bridge "conceal=00:1f.0" "pci 00:1f.0 \\(8086:2918\\): conceal: class 060100: an ISA/LPC bridge"
# Function 0 of a multi-function device alone: the guest would miss the rest.
refused multifunction "conceal=00:05.0" \
	"pci 00:05.0 \\(8086:100e\\): conceal: function 0 of a multi-function device; the guest would not look for its other functions \\(00:05.1\\) either" \
	-device e1000,addr=05.0,multifunction=on -device e1000,addr=05.1
# A mistyped option word fails closed too: a list written with a space
# would leave the second function visible, a misspelt key all of them.
refused space_in_list "conceal=00:02.0 00:1f.2" \
	"option '00:1f.2': looks like part of a device list: conceal=, nodma= and nomsi= lists are comma-separated.*; refusing to start the guest"
refused misspelt_key "concael=00:02.0" \
	"option 'concael=00:02.0': unknown option 'concael' - did you mean conceal=\\?; refusing to start the guest"
refused nomsi_malformed "nomsi=zz" \
	"option 'nomsi=zz': entry 'zz' is neither BB:DD.F nor VVVV:DDDD .*refusing to start the guest"
refused nomsi_no_such_function "nomsi=00:05.0" \
	"nomsi=: no PCI function at 00:05.0 was stripped of MSI; refusing to start the guest"

started() { # started NAME LAMINA-ARGS: the e1000e concealed, the guest starts
	local log=$WORK/$1.log
	qemu_lamina "$log" "$(done_marker hypercall)" 60 1 256 "$2" "$kernel"
	expect_in "$log" "pci 00:02.0 \\(8086:10d3\\): mediated by 'conceal'" "$2: concealed"
	expect_in "$log" "starting the Multiboot guest" "$2: the guest starts"
}

started good "conceal=00:02.0"
# Two entries naming the same function are both satisfied.
started same_function_twice "conceal=00:02.0,8086:10d3"
finish
