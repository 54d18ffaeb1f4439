#!/usr/bin/env bash
# lamina's ECAM accesses move their data through EAX, AX or AL only, as
# AMD's northbridges require of MMIO configuration accesses (BKDG for
# family 10h and later, "MMIO configuration coding requirements"): a
# MOVZX load or a store from another register may not reach the device.
# The compiler picks registers, so this reads the built image, not the
# source: every instruction of ecam_load and ecam_store
# (core/pci/pci_access.c) that touches memory must be such a MOV, they
# call nothing, and there is a MOV of each width; pci_access.c must
# reach ECAM through them alone.
. "$(dirname "$0")/../lib/common.sh"
SRC=$TOP/core/pci/pci_access.c
DATA='(%eax|%ax|%al)'
MEM='[-0-9a-fx]*\(%[a-z0-9]+(,%[a-z0-9]+)?(,[1248])?\)'

if [ ! -e "$LAMINA" ]; then
	not_ok "prerequisites present: missing $LAMINA (make first)"
	finish
fi

# disasm FUNC: FUNC's instructions, one per line, mnemonic and operands
# (with the padding objdump shows after the last one).
disasm() {
	objdump -d --no-show-raw-insn "$LAMINA" |
		awk -v f="<$1>:" '$2 == f { on = 1; next } on && /^$/ { exit }
			on { sub(/^[^\t]*\t/, ""); sub(/[ \t]+#.*/, ""); print }'
}

# bad_insn FUNC OP ARGS: why the instruction breaks the rule, or nothing.
bad_insn() {
	local fn=$1 op=$2 args=$3
	case $op in
	nop* | lea*) return ;; # no access
	call*) echo "calls other code"; return ;;
	j*) [[ $args == *"*"* || ($args == *"<"* && $args != *"<$fn+"*) ]] &&
		echo "jumps out of $fn"
		return ;;
	esac
	[[ $args == *"("* ]] || return
	[[ $op =~ ^mov[bwl]?$ && ($args =~ ^$MEM,$DATA$ || $args =~ ^$DATA,$MEM$) ]] ||
		echo "touches memory other than by a MOV with EAX, AX or AL"
}

# check_func FUNC load|store: FUNC breaks the rule nowhere, and moves
# each width (%al, %ax, %eax) that way.
check_func() {
	local fn=$1 dir=$2 n=0 bad=0 op args why reg widths=""
	disasm "$fn" >"$WORK/$fn.dis"
	while read -r op args; do
		while [[ $op == data16 || $op == cs ]]; do read -r op args <<<"$args"; done
		why=$(bad_insn "$fn" "$op" "$args")
		n=$((n + 1))
		[ -z "$why" ] && continue
		bad=1
		echo "#   $fn: '$op $args' $why"
	done <"$WORK/$fn.dis"
	widths=$(grep -E "^mov[bwl]?[[:space:]]+" "$WORK/$fn.dis" | awk '{print $2}')
	check "$fn is in $(basename "$LAMINA") ($n instructions)" [ "$n" -gt 0 ]
	check "$fn: every memory access is a MOV with %eax, %ax or %al" [ $bad -eq 0 ]
	for reg in %al %ax %eax; do
		if [ "$dir" = load ]; then
			check "$fn: a $dir into $reg" grep -qE "^$MEM,$reg$" <<<"$widths"
		else
			check "$fn: a $dir from $reg" grep -qE "^$reg,$MEM$" <<<"$widths"
		fi
	done
}

check_func ecam_load load
check_func ecam_store store

# In the source: no other sized access there, and each ECAM address goes
# straight to one of the two.
check "pci_access.c has no mem_read_sized/mem_write_sized" \
	not grep -qE 'mem_(read|write)_sized' "$SRC"
grep 'ecam_reg(' "$SRC" | grep -v 'static volatile void \*ecam_reg(' >"$WORK/uses"
check "pci_access.c's $(wc -l <"$WORK/uses") uses of ecam_reg() are each in ecam_load/ecam_store" \
	not grep -vqE 'ecam_(load|store)\(ecam_reg\(' "$WORK/uses"
finish
