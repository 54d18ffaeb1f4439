# Helpers of the Linux system tests (*.t here), on top of tests/lib/common.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
. "$TOP/tests/system/linux.sh"

# need FILE...: every file exists, else a failing TAP line naming them.
need() {
	local f missing=()
	for f in "$@"; do [ -e "$f" ] || missing+=("$f"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	not_ok "prerequisites present: missing ${missing[*]} (make first)"
	return 1
}

# make_initramfs OUT [MODULE...]
make_initramfs() {
	BUILD=$BUILD "$TOP/tests/system/mkinitramfs.sh" "$@"
}

# linux_under_lamina_qemu SMP MEM "KERNEL ARGS": Linux with the test
# initramfs under lamina on QEMU TCG, to its end: the guest's COM1 in $log,
# lamina's log (COM2) in $lamina_log.
linux_under_lamina_qemu() {
	log=$WORK/serial.log lamina_log=$WORK/lamina.log
	make_initramfs "$WORK/initramfs.cpio"
	qemu_linux lamina "$1" "$2" "$LINUX_CONSOLE $3" "$WORK/initramfs.cpio" "console=com2"
	run_to_exit "$log" 240 "${QEMU_CMD[@]}" -serial "file:$log" -serial "file:$lamina_log" -monitor none
}

# finish_linux: the end of a Linux test: both logs shown if anything failed.
finish_linux() {
	if [ $FAILED -ne 0 ]; then
		show_log "$log"
		show_log "$lamina_log" 40
	fi
	finish
}

# run_to_exit LOG TIMEOUT CMD...: runs the emulator (its stdout and stderr
# to $WORK/qemu.out) until it exits by itself; it is stopped after TIMEOUT
# seconds, or POWEROFF_WAIT (30) seconds after the guest's "LTEST: done" in
# LOG (its power-off should end it at once). Sets RUN_STATUS: "exit:N",
# "timeout", or "no exit after LTEST: done".
run_to_exit() {
	local log=$1 timeout=$2 pid t=0
	shift 2
	: >"$log"
	setsid "$@" </dev/null >"$WORK/qemu.out" 2>&1 &
	pid=$!
	RUN_STATUS=timeout
	if wait_for "$log" '^LTEST: done' "$timeout" "$pid"; then
		RUN_STATUS="no exit after LTEST: done"
		while kill -0 "$pid" 2>/dev/null && [ $t -lt $((${POWEROFF_WAIT:-30} * 10)) ]; do
			sleep 0.1
			t=$((t + 1))
		done
	fi
	if kill -0 "$pid" 2>/dev/null; then
		kill -- -"$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	else
		wait "$pid"
		RUN_STATUS="exit:$?"
	fi
}

# expect_ltest LOG KEY VALUE NAME: some "LTEST: KEY: ..." line is VALUE.
expect_ltest() {
	if ltest "$1" "$2" | grep -qxF -- "$3"; then ok "$4"; else
		not_ok "$4"
		echo "#   expected 'LTEST: $2: $3', found:"
		ltest "$1" "$2" | head -5 | sed 's/^/#     /'
	fi
}

# check_mtrr_writes LOG LAMINA_LOG: Linux's MTRR set-up at boot on every
# CPU (MTRRs off, ranges rewritten, on again) went through lamina's MTRR
# policy without a refusal or a kernel complaint.
check_mtrr_writes() {
	expect_not_in "$1" '^LTEST: mtrr: .*([Ff]ail|[Ee]rror|[Ii]nvalid|WARNING)' \
		"Linux's MTRR code reported no error ($(ltest "$1" mtrr | wc -l) MTRR lines in dmesg)"
	expect_not_in "$2" 'to MTRR MSR .*refused' "lamina refused no MTRR write of Linux"
}

# check_hidden_range LOG: `laminactl meminfo` gave lamina's range, and the
# e820 map the guest reported has it inside a reserved entry and overlapping
# no usable one.
check_hidden_range() {
	local range
	range=$(ltest "$1" meminfo | sed -n 's/^lamina memory: \[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\].*/\1 \2/p')
	if [ -z "$range" ]; then
		not_ok "laminactl meminfo gives lamina's range"
		return 0
	fi
	ok "laminactl meminfo gives lamina's range ($range)"
	check "lamina's range lies inside a reserved e820 entry" e820_entry "$1" reserved covers $range
	check "lamina's range overlaps no usable e820 entry" not e820_entry "$1" usable overlaps $range
}

# e820_entry LOG TYPE HOW BASE END: some "LTEST: e820: [mem A-B] TYPE" line
# "covers" BASE..END (A <= BASE, END <= B) or "overlaps" it (shares a byte).
e820_entry() {
	local a b t
	while read -r a b t; do
		[ "$t" = "$2" ] || continue
		case $3 in
		covers) [ $((a)) -le $(($4)) ] && [ $(($5)) -le $((b)) ] && return 0 ;;
		overlaps) [ $((a)) -le $(($5)) ] && [ $(($4)) -le $((b)) ] && return 0 ;;
		esac
	done < <(e820_ranges "$1")
	return 1
}

# "START END TYPE" for each e820 line the guest reported.
e820_ranges() {
	ltest "$1" e820 | sed -n 's/^\[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\] \(.*\)$/\1 \2 \3/p'
}

# A table of `laminactl stats` (reported under KEY): the cell of row REASON
# and column COLUMN (cpu0, cpu1, ..., total).
stats_cell() {
	ltest "$1" "$2" | awk -v row="$3" -v col="$4" '
		$1 == "reason" { for (i = 2; i <= NF; i++) if ($i == col) c = i }
		$1 == row && c { print $c; exit }'
}

# check_hotplug LOG LAMINA_LOG: the `lamina.test=hotplug` scenario (CPU 1
# offline and online twice, init.sh) ran under lamina: lamina caught both
# INITs at the sender and restarted CPU 1 from its SIPI, each CPU still
# answers laminactl (a CPU that escaped lamina would say "not running under
# lamina"), and CPU 1's WBINVD on its way offline was counted.
check_hotplug() {
	local log=$1 lamina_log=$2 round cpu n
	expect_in "$log" '^LTEST: scenario: hotplug' "Linux reaches the hotplug scenario under lamina"
	for round in 1 2; do
		expect_ltest "$log" "offline$round" "0 0" "round $round: CPU 1 goes offline"
		expect_ltest "$log" "online$round" "0 0-1" "round $round: CPU 1 comes back online"
	done
	n=$(grep -c 'the guest sent INIT to CPU 1: it waits for SIPI in lamina' "$lamina_log")
	check "lamina caught both INITs to the running CPU 1 (${n})" [ "$n" -eq 2 ]
	n=$(grep -c 'the guest started CPU 1 (APIC ID 1)' "$lamina_log")
	check "lamina started CPU 1 three times: boot and two onlines (${n})" [ "$n" -eq 3 ]
	for cpu in 0 1; do
		expect_ltest "$log" "cpu$cpu.version.rc" 0 "laminactl pinned to CPU $cpu works"
		expect_in "$log" "^LTEST: cpu$cpu.version: lamina version: " "CPU $cpu still runs under lamina"
	done
	expect_ltest "$log" stats.rc 0 "laminactl stats works"
	n=$(stats_cell "$log" stats wbinvd cpu1)
	check "CPU 1's WBINVD on its way offline was seen (${n:-none})" [ "${n:-0}" -gt 0 ]
	expect_in "$log" '^LTEST: done' "scenario finishes"
}

# bochs_linux_vendor: VENDOR and VENDOR_NAME (as lamina's log and
# `laminactl version` name it) for $BOCHS_LINUX_MODEL.
bochs_linux_vendor() {
	case $BOCHS_LINUX_MODEL in
	zambezi | trinity_apu | ryzen | phenom*) VENDOR=AMD-V VENDOR_NAME="AMD-V (SVM)" ;;
	*) VENDOR=VT-x VENDOR_NAME="Intel VT-x (VMX)" ;;
	esac
}

# check_sleep_states LOG LAMINA_LOG VENDOR: on AMD-V lamina left the
# firmware's S3 to the guest (it wakes from it, core/suspend.c) and Linux
# found S3 and S5; on VT-x lamina hid S3 and Linux found no S3 (nor S2),
# but S5 for its power-off.
check_sleep_states() {
	local states
	states=$(ltest "$1" acpi.sleep)
	if [ "$3" = AMD-V ]; then
		expect_in "$2" 'ACPI: \\_S3 \(SLP_TYP [0-7]/[0-7]\) in [DS]SDT: lamina sleeps and wakes from it' \
			"lamina left the firmware's \\_S3 to the guest"
		check "Linux found S3 and S5 (${states:-nothing})" \
			eval '[[ " $states " == *" S5 "* && " $states " == *" S3 "* ]]'
		return
	fi
	expect_in "$2" 'ACPI: \\_S3 \(SLP_TYP [0-7]/[0-7]\) hidden in [DS]SDT' "lamina hid the firmware's \\_S3"
	check "Linux found S5 but no S2 or S3 (${states:-nothing})" \
		eval '[[ " $states " == *" S5 "* && " $states " != *" S3 "* && " $states " != *" S2 "* ]]'
}
