#!/usr/bin/env bash
# Concealment under Linux (QEMU TCG, AMD-V): with conceal= naming QEMU's
# NIC (the q35 default e1000e at 00:02.0, 8086:10d3), the guest's
# /sys/bus/pci/devices lacks it, every other device is there, and the
# first 64 bytes of configuration space of every other device are the same
# as in the same guest booted without lamina. Both ways of naming it.
. "$(dirname "$0")/lib.sh"
need "$LAMINA" "$BUILD/laminactl" "$BUILD/workload" "$(linux_kernel)" || finish
NIC=0000:00:02.0

make_initramfs "$WORK/initramfs.cpio"
boot() { # boot LOG MODE [LAMINA ARGS [QEMU ARGS...]]
	local log=$1 mode=$2 largs=${3:-}
	shift $(($# < 3 ? $# : 3))
	qemu_linux "$mode" 2 1G "$LINUX_CONSOLE lamina.test=pci" "$WORK/initramfs.cpio" "$largs"
	run_to_exit "$log" 240 "${QEMU_CMD[@]}" -serial "file:$log" -serial "file:$log.lamina" \
		-monitor none "$@"
	check "$mode $largs: Linux listed its PCI devices ($RUN_STATUS)" grep -aq '^LTEST: done' "$log"
}
devices() { ltest "$1" pci | cut -d' ' -f1 | sort; }
config_of() { ltest "$1" pci | grep "^$2 " | cut -d' ' -f2-; }

boot "$WORK/bare.log" bare
check "bare: the NIC $NIC is there" grep -aq "^LTEST: pci: $NIC " "$WORK/bare.log"
others=$(devices "$WORK/bare.log" | grep -v "^$NIC\$")
check "bare: other devices are there too ($(echo $others | wc -w))" [ -n "$others" ]

for how in 00:02.0 8086:10d3; do
	log=$WORK/conceal-${how/:/-}.log
	boot "$log" lamina "console=com2 conceal=$how"
	expect_in "$log.lamina" "pci 00:02.0 \\(8086:10d3\\): mediated by 'conceal'" "conceal=$how: lamina conceals the NIC"
	check "conceal=$how: the guest has no $NIC" not grep -aq "^LTEST: pci: $NIC " "$log"
	check "conceal=$how: the guest read lamina's log" grep -aq "^LTEST: log: .*lamina" "$log"
	check "conceal=$how: that log names neither the NIC nor conceal=" \
		not grep -aqE "^LTEST: log: .*(00:02\.0|8086:10d3|conceal)" "$log"
	check "conceal=$how: every other device is there" [ "$(devices "$log")" = "$others" ]
	same=0 differ=
	for d in $others; do
		if [ "$(config_of "$log" "$d")" = "$(config_of "$WORK/bare.log" "$d")" ]; then
			same=$((same + 1))
		else
			differ="$differ $d"
		fi
	done
	check "conceal=$how: config space (64 bytes) of the $same other devices as bare${differ:+; differs:$differ}" [ -z "$differ" ]
done
# Behind a bridge: a second e1000e on bus 1 below a PCIe root port. lamina
# follows the bridge, and concealing 01:00.0 hides it and only it.
BRIDGED=(-device pcie-root-port,id=rp1,chassis=1,slot=1 -device e1000e,bus=rp1)
boot "$WORK/bare-bridge.log" bare "" "${BRIDGED[@]}"
check "bare: the NIC behind the root port is 0000:01:00.0" grep -aq '^LTEST: pci: 0000:01:00.0 ' "$WORK/bare-bridge.log"
log=$WORK/conceal-bridge.log
boot "$log" lamina "console=com2 conceal=01:00.0" "${BRIDGED[@]}"
expect_in "$log.lamina" "pci 01:00.0 \\(8086:10d3\\) class 020000" "lamina enumerated the function behind the bridge"
expect_in "$log.lamina" "pci 01:00.0 \\(8086:10d3\\): mediated by 'conceal'" "conceal=01:00.0: lamina conceals it"
check "conceal=01:00.0: the guest has no 0000:01:00.0" not grep -aq '^LTEST: pci: 0000:01:00.0 ' "$log"
check "conceal=01:00.0: every other device is there" \
	[ "$(devices "$log")" = "$(devices "$WORK/bare-bridge.log" | grep -v '^0000:01:00.0$')" ]
[ $FAILED -eq 0 ] || { show_log "$WORK/bare.log" 20; show_log "$log" 20; show_log "$log.lamina" 30; }
finish
