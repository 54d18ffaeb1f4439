# Shared helpers for test scripts (*.t). Source it; it sets -u.
# Results are TAP lines: "ok - name" / "not ok - name" (see tests/harness.sh).
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
LAMINA=${LAMINA:-$BUILD/lamina.elf}
# Per-test scratch directory, kept after the run for inspection.
TEST_NAME=${TEST_NAME:-$(basename "$0" .t)}
WORK=${WORK:-$BUILD/test-work/$TEST_NAME}
rm -rf "$WORK" && mkdir -p "$WORK"

FAILED=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }
# check NAME CMD...: one TAP line from a command's status.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# not CMD...: succeeds when the command fails (for check).
not() { ! "$@"; }
# expect_in FILE REGEX NAME: the file has a line matching REGEX (grep -E).
expect_in() {
	if grep -qE -- "$2" "$1"; then ok "$3"; else
		not_ok "$3"
		echo "#   no line matching /$2/ in $1"
	fi
}
expect_not_in() {
	if grep -qE -- "$2" "$1"; then
		not_ok "$3"
		echo "#   unexpected line matching /$2/ in $1:"
		grep -E -- "$2" "$1" | head -5 | sed 's/^/#     /'
	else ok "$3"; fi
}
# Copy the TAP lines a guest printed on its serial port into our output.
relay_tap() {
	grep -aE '^(not )?ok - ' "$1" | tr -d '\r'
	grep -aqE '^not ok - ' "$1" && FAILED=1
	return 0
}
finish() {
	exit $FAILED
}
show_log() {
	echo "# ---- $1 (last ${2:-60} lines)"
	tail -n "${2:-60}" "$1" | tr -d '\r' | sed 's/^/#   /'
}

# wait_for FILE REGEX TIMEOUT PID: returns 0 when FILE has a line matching
# REGEX, 1 when PID exits first or TIMEOUT seconds pass.
wait_for() {
	local file=$1 re=$2 timeout=$3 pid=$4 t=0
	while [ "$t" -lt $((timeout * 10)) ]; do
		grep -aqE -- "$re" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { grep -aqE -- "$re" "$file" 2>/dev/null; return; }
		sleep 0.1
		t=$((t + 1))
	done
	return 1
}

# Run an emulator in the background until its serial log ($1) shows a line
# matching the end marker ($2), it exits, or the timeout ($3 s) passes; the
# rest is the command. Sets RUN_STATUS: "marker", "exit:N" or "timeout".
# Optional, for one call: RUN_WATCH=FILE looks for the marker in FILE (say
# the hypervisor's own console) instead; RUN_LINGER=S keeps the emulator
# running S seconds after the marker, and RUN_STATUS is "marker-exit:N"
# if it exited meanwhile.
run_until() {
	local log=$1 marker=$2 timeout=$3
	local watch=${RUN_WATCH:-$1} linger=${RUN_LINGER:-0}
	shift 3
	: >"$log"
	: >"$watch"
	setsid "$@" </dev/null >"$log.out" 2>&1 &
	local pid=$!
	if wait_for "$watch" "$marker" "$timeout" "$pid"; then
		RUN_STATUS=marker
		if [ "$linger" -gt 0 ]; then
			sleep "$linger"
			kill -0 "$pid" 2>/dev/null || { wait "$pid"; RUN_STATUS="marker-exit:$?"; }
		fi
	elif kill -0 "$pid" 2>/dev/null; then
		RUN_STATUS=timeout
	else
		wait "$pid"
		RUN_STATUS="exit:$?"
	fi
	kill -- -"$pid" 2>/dev/null
	# Bochs catches SIGTERM and runs on: without this, wait never returns.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL -- -"$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# A marker may be followed by a few more lines: give the writer a moment
	# only if it is still there (it is not: we killed it), so nothing to wait.
	return 0
}

QEMU_CPU=${QEMU_CPU:-EPYC-Rome,+svm,+npt}
# qemu_lamina LOG MARKER TIMEOUT SMP MEM "LAMINA ARGS" "MODULES" [extra qemu args]
# MODULES is QEMU's -initrd string: "file args,file args" (',,' for a comma).
qemu_lamina() {
	local log=$1 marker=$2 timeout=$3 smp=$4 mem=$5 args=$6 mods=$7
	shift 7
	local initrd=()
	[ -n "$mods" ] && initrd=(-initrd "$mods")
	run_until "$log" "$marker" "$timeout" \
		qemu-system-x86_64 -accel tcg -machine q35 -cpu "$QEMU_CPU" \
		-smp "$smp" -m "$mem" -kernel "$LAMINA" -append "$args" "${initrd[@]}" \
		-serial "file:$log" -display none -no-reboot -monitor none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@"
}

. "$TOP/tests/lib/bochs.sh" # make_iso, bochs_config

# bochs_run LOG MARKER TIMEOUT MODEL CPUS MEGS ISO [COM2_LOG]
# Bochs exits with status 1 even after a clean shutdown: judge by markers.
bochs_run() {
	local log=$1 marker=$2 timeout=$3
	bochs_config "$log" "$4" "$5" "$6" "$7" "${8:-}"
	TERM=vt100 run_until "$log" "$marker" "$timeout" "${BOCHS_CMD[@]}"
}
