#!/usr/bin/env bash
# Configuration-space interception on QEMU (AMD-V): CF8/CFC in every width
# and lane, ECAM, the SMBus controller at 00:1f.3 kept from DMA (nodma=:
# the refused writes are logged naming device, register, bits, rule and count), and
# the AHCI controller at 00:1f.2 without its MSI (nomsi=), and
# the e1000e at 00:02.0 concealed (conceal=00:02.0), and the MCH's PCIEXBAR
# kept where it is (a new base moves ECAM bare, is refused under lamina),
# as is AMD's MMIO_CFG_BASE_ADDR (a new value gets #GP):
# a bare run first (the function is there; its BAR0 address, every
# function's first 64 bytes and capability list), then lamina: the function
# reads all-ones through CF8/CFC and ECAM, its BAR reads all-ones, the AHCI
# controller's capability list lacks MSI and is otherwise as bare, and the
# other functions read exactly as bare.
. "$(dirname "$0")/guest.sh"
need_built "$LAMINA" "$GUEST_DIR/pci.elf"

guest_qemu_bare pci "hidden=00:02.0 nodma=00:1f.3 nomsi=00:1f.2 pciexbar=1 mmiocfg=1" 1
guest_report pci
cp "$LOG" "$WORK/bare.log"
# BAR0 of 00:02.0: bytes 16-19 of its config space, little-endian.
bar=$(sed -n 's/^# cfg 00:02.0 //p' "$WORK/bare.log" | tr -d '\r' |
	awk '{ printf "0x%s%s%s%s", $20, $19, $18, $17 }')
check "bare: 00:02.0 has a memory BAR0 ($bar)" [ -n "$bar" ]
bar=$(printf '0x%x' $((bar & ~0xf)))

HV_ARGS="conceal=00:02.0 nodma=00:1f.3 nomsi=00:1f.2" \
	guest_qemu_lamina pci "hidden=00:02.0 bar=$bar nodma=00:1f.3 nomsi=00:1f.2 pciexbar=1 mmiocfg=1" 1
guest_report pci
expect_in "$HVLOG" "pci 00:02.0 \\(8086:10d3\\): mediated by 'conceal'" "lamina concealed 00:02.0"
# refused BYTES COUNT: the nodma= refusal lamina logs, as a regex.
refused() {
	echo "pci 00:1f.3 \\(8086:2930\\): guest write of 0x[0-9a-f]+ to register 0x4 \\($1 bytes\\) would change bits 0x4; refused by rule 'nodma: bus mastering stays off' \\(refusal $2 by this rule"
}
expect_in "$HVLOG" "$(refused 2 1)" "lamina logged the refused write: device, register, bits, rule, count (CF8/CFC)"
expect_in "$HVLOG" "$(refused 4 2)" "lamina logged the second refused write with its count (ECAM)"
expect_in "$HVLOG" "pci 00:1f.2: 1 MSI/MSI-X capabilities hidden from the guest" "lamina hid the AHCI controller's MSI"
expect_in "$HVLOG" "pci 00:00.0 \\(8086:29c0\\): guest write of 0xc0000001 to register 0x60 \\(4 bytes\\) would change bits 0x70000000; refused by rule 'PCIEXBAR: ECAM stays where lamina traps it' \\(refusal 1 " \
	"lamina logged the refused move of ECAM (PCIEXBAR)"
expect_in "$HVLOG" "the guest tried to change MMIO_CFG_BASE_ADDR \\(ECAM\\) from 0x0 to 0xe0000021: refused \\(#GP\\)" \
	"lamina logged the refused change of MMIO_CFG_BASE_ADDR"
# 00:1f.2's capability pointer may change (its list is relinked): compared below.
grep -a '^# cfg ' "$WORK/bare.log" | grep -v '^# cfg 00:02.0\|^# cfg 00:1f.2' | tr -d '\r' >"$WORK/bare.cfg"
grep -a '^# cfg ' "$LOG" | grep -v '^# cfg 00:1f.2' | tr -d '\r' >"$WORK/lamina.cfg"
check "every other function's first 64 bytes are as bare" cmp -s "$WORK/bare.cfg" "$WORK/lamina.cfg"
# Capability lists: as bare, but 00:1f.2 without MSI (05) and MSI-X (11).
grep -a '^# caps ' "$WORK/bare.log" | grep -v '^# caps 00:02.0' | tr -d '\r' |
	sed '/^# caps 00:1f.2/{s/ 05//g;s/ 11//g}' >"$WORK/bare.caps"
grep -a '^# caps ' "$LOG" | tr -d '\r' >"$WORK/lamina.caps"
check "capability lists as bare, less 00:1f.2's MSI" cmp -s "$WORK/bare.caps" "$WORK/lamina.caps"
finish
