#!/usr/bin/env bash
# Configuration-space interception on Bochs (VT-x, i440FX: CF8/CFC only,
# no ECAM): the USB controller at 00:01.2 concealed (conceal=00:01.2) reads
# all-ones in every width and lane, the other functions read as bare, and
# the IDE controller at 00:01.1 cannot be made a bus master (nodma=).
# pci_bochs_ryzen.t runs this on AMD-V (PCI_MODEL).
. "$(dirname "$0")/guest.sh"
PCI_MODEL=${PCI_MODEL:-$BOCHS_HASWELL}
need_built "$LAMINA" "$GUEST_DIR/pci.elf"

guest_bochs_bare pci "hidden=00:01.2 nodma=00:01.1" "$PCI_MODEL" 1
guest_report pci
grep -a '^# cfg ' "$LOG" | grep -v '^# cfg 00:01.2' | tr -d '\r' >"$WORK/bare.cfg"

HV_ARGS="conceal=00:01.2 nodma=00:01.1" guest_bochs_lamina pci "hidden=00:01.2 nodma=00:01.1" "$PCI_MODEL" 1
guest_report pci
expect_in "$HVLOG" "pci 00:01.2 \\(8086:7020\\): mediated by 'conceal'" "lamina concealed 00:01.2"
expect_in "$HVLOG" "pci 00:01.1 \\(8086:7010\\): guest write of 0x[0-9a-f]+ to register 0x4 \\(2 bytes\\) would change bits 0x4; refused by rule 'nodma: bus mastering stays off'" \
	"lamina logged the refused write: device, register, bits, rule"
grep -a '^# cfg ' "$LOG" | tr -d '\r' >"$WORK/lamina.cfg"
check "every other function's first 64 bytes are as bare" cmp -s "$WORK/bare.cfg" "$WORK/lamina.cfg"
finish
