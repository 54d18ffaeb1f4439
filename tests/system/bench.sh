#!/usr/bin/env bash
# `make bench`: Linux with and without lamina on the same emulated machine,
# runs interleaved (lamina, bare, lamina, bare, ...), medians and ratios:
#  - boot to /init: from the emulator's start to the "LTEST: init" line on
#    COM1, as seen on the host (each serial line is timestamped as it
#    arrives);
#  - the fixed workload's parts, timed inside the guest (workload/);
#  - lamina runs: VM exits by reason during the workload, and per second,
#    from `laminactl stats` before and after it.
#   BENCH_RUNS=N        pairs of runs (default 5)
#   BENCH_TIMEOUT=S     limit of one run (default 240)
#   BENCH_LINUX_ARGS    added to the kernel command line (default "quiet")
#   LAMINA_ARGS         lamina's command line (default console=com2: its log
#                       goes to a file, not into the timed COM1 stream)
#   BENCH_PLATFORMS     emulators to bench on (default "qemu bochs"):
#                       qemu (AMD-V, EPYC-Rome), bochs (VT-x, Haswell),
#                       bochs_amd (AMD-V, Bochs's zambezi: an AMD-V with
#                       NRIPS, unlike QEMU's)
#   BENCH_BOCHS_RUNS=N  pairs on each Bochs platform (default 1, at most
#                       BENCH_RUNS): a Bochs run takes minutes
#   BENCH_BOCHS_TIMEOUT=S  limit of one Bochs run (default 1200)
#   BENCH_BOCHS_WORK    workload parts on Bochs (lamina.work=; default all)
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$(cd "$here/../.." && pwd)/build}
. "$here/linux.sh"
RUNS=${BENCH_RUNS:-5}
TIMEOUT=${BENCH_TIMEOUT:-240}
KARGS="$LINUX_CONSOLE lamina.test=bench ${BENCH_LINUX_ARGS-quiet}"
LARGS=${LAMINA_ARGS:-console=com2}
OUT=$BUILD/bench
RESULTS=$OUT/results.tsv # platform mode run metric value
SMP=2 MEM=1G
PLATFORMS=${BENCH_PLATFORMS:-qemu bochs}

# stamp_lines PIDFILE: prefix each line of stdin with the time it arrived
# (seconds since the epoch). After "LTEST: done" the guest powers off and
# the emulator should exit, closing stdin: if it is still there
# POWEROFF_WAIT (30) seconds later, the process in PIDFILE is stopped.
stamp_lines() {
	local line wait=${POWEROFF_WAIT:-30}
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"
		[[ $line == "LTEST: done"* ]] && break
	done
	while IFS= read -r -t "$wait" line; do printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"; done
	if [ $? -gt 128 ]; then
		printf '%s bench: still running %s s after LTEST: done; stopped\n' "$EPOCHREALTIME" "$wait"
		kill "$(cat "$1")" 2>/dev/null
	fi
}

# run_qemu MODE LOG: one boot of Linux, MODE "lamina" or "bare"; LOG gets
# "TIME start" then every COM1 line, timestamped. COM2 (lamina's log) goes
# to LOG.com2 in both modes, so that the machines are the same.
run_qemu() {
	local mode=$1 log=$2
	qemu_linux "$mode" "$SMP" "$MEM" "$KARGS" "$OUT/initramfs.cpio" "$LARGS" || return 1
	printf '%s start\n' "$EPOCHREALTIME" >"$log"
	{
		timeout -k 5 "$TIMEOUT" "${QEMU_CMD[@]}" -serial stdio -serial "file:$log.com2" \
			-monitor none </dev/null 2>"$log.err" &
		echo $! >"$log.pid"
		wait
	} | stamp_lines "$log.pid" >>"$log"
}

# bochs_model PLATFORM: the Bochs CPU model a Bochs platform runs.
bochs_model() {
	if [ "$1" = bochs_amd ]; then echo zambezi; else echo "$BOCHS_LINUX_MODEL"; fi
}

# run_bochs MODE LOG [PLATFORM]: the same kernel and initramfs on Bochs
# from a GRUB ISO (bare: GRUB's linux/initrd, lamina: multiboot2 with the
# two as modules), LOG in the same form. Bochs writes COM1 to a file: it is
# followed as it grows and its lines timestamped as they appear.
run_bochs() {
	local mode=$1 log=$2 platform=${3:-bochs} pid
	local WORK=$OUT/$platform-$mode kargs=$KARGS
	[ -n "${BENCH_BOCHS_WORK:-}" ] && kargs="$kargs lamina.work=$BENCH_BOCHS_WORK"
	mkdir -p "$WORK"
	bochs_linux_iso "$mode" "$WORK/linux.iso" "$kargs" "$OUT/initramfs.cpio" "$LARGS" || return 1
	bochs_config "$log.com1" "$(bochs_model "$platform")" "$SMP" "$BOCHS_LINUX_MEGS" "$WORK/linux.iso" "$log.com2"
	: >"$log.com1"
	printf '%s start\n' "$EPOCHREALTIME" >"$log"
	TERM=vt100 timeout -k 5 "${BENCH_BOCHS_TIMEOUT:-1200}" "${BOCHS_CMD[@]}" </dev/null >"$log.err" 2>&1 &
	pid=$!
	echo "$pid" >"$log.pid"
	tail -n +1 -F --pid="$pid" "$log.com1" 2>/dev/null | stamp_lines "$log.pid" >>"$log"
	wait "$pid"
	return 0
}

run_bochs_amd() {
	run_bochs "$1" "$2" bochs_amd
}

# How many pairs a platform gets, and what its machine is.
runs_of() {
	case $1 in
	bochs*) echo "${BENCH_BOCHS_RUNS:-1}" ;;
	*) echo "$RUNS" ;;
	esac
}

machine_of() {
	case $1 in
	bochs*) echo "Bochs $(bochs_model "$1"), $SMP CPUs, $BOCHS_LINUX_MEGS MiB" ;;
	*) echo "q35, $QEMU_CPU, -smp $SMP -m $MEM" ;;
	esac
}

# The time from the start line to the first line matching REGEX.
seconds_to() {
	awk -v re="$2" 'NR == 1 { t0 = $1 } NR > 1 && substr($0, index($0, " ") + 1) ~ re {
		printf "%.3f\n", $1 - t0; exit }' "$1"
}

# The timestamps stripped: the serial log as the guest wrote it.
plain() {
	cut -d' ' -f2- "$1"
}

# record PLATFORM MODE RUN LOG: the run's numbers into RESULTS; fails if
# the run did not finish its scenario.
record() {
	local p=$1 mode=$2 run=$3 log=$4 serial=$4.serial part ms before after
	plain "$log" >"$serial"
	grep -q '^LTEST: done' "$serial" && [ "$(ltest "$serial" work)" = ok ] || return 1
	{
		printf '%s\t%s\t%s\tboot to /init (s)\t%s\n' "$p" "$mode" "$run" "$(seconds_to "$log" '^LTEST: init')"
		for part in cpu mem spawn total; do
			ms=$(ltest "$serial" "work.$part.ms") # none for parts not run (lamina.work=)
			[ -z "$ms" ] || printf '%s\t%s\t%s\tworkload %s (ms)\t%s\n' "$p" "$mode" "$run" "$part" "$ms"
		done
	} >>"$RESULTS"
	[ "$mode" = lamina ] || return 0
	before=$(ltest "$serial" stats.before) after=$(ltest "$serial" stats.after)
	exits_during "$before" "$after" "$(ltest "$serial" work.total.ms)" |
		sed "s/^/$p\t$mode\t$run\t/" >>"$RESULTS"
}

# exits_during BEFORE AFTER MS: from two `laminactl stats` tables, for each
# reason counted during the workload: "exits REASON\tN" and "exits/s
# REASON\tN/s", and the same for all reasons but CPUID.
exits_during() {
	awk -v ms="$3" -F' +' '
		$1 == "reason" { next }
		NR == FNR { before[$1] = $NF; next }
		{ n = $NF - before[$1]; if (n > 0 || $1 == "total") d[$1] = n }
		END {
			d["all but cpuid"] = d["total"] - d["cpuid"]; delete d["total"]
			for (r in d) printf "exits %s\t%d\nexits/s %s\t%.1f\n", r, d[r], r, d[r] * 1000 / ms
		}' <(echo "$1") <(echo "$2")
}

# median FORMAT: of the numbers on stdin, printed with FORMAT, or "-".
median() {
	sort -g | awk -v f="$1\n" '{ v[NR] = $1 } END { if (!NR) print "-";
		else printf f, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# values PLATFORM MODE METRIC: that metric of every successful run.
values() {
	awk -F'\t' -v p="$1" -v m="$2" -v k="$3" '$1 == p && $2 == m && $4 == k { print $5 }' "$RESULTS"
}

report() {
	local p=$1 metric l b
	echo
	echo "== $p: Linux $(linux_version), $(machine_of "$p"); medians of" \
		"$(values "$p" lamina 'boot to /init (s)' | wc -l) lamina and" \
		"$(values "$p" bare 'boot to /init (s)' | wc -l) bare runs"
	printf '%-24s %12s %12s %8s\n' "" lamina bare ratio
	for metric in 'boot to /init (s)' 'workload cpu (ms)' 'workload mem (ms)' \
		'workload spawn (ms)' 'workload total (ms)'; do
		l=$(values "$p" lamina "$metric" | median %.3f)
		b=$(values "$p" bare "$metric" | median %.3f)
		printf '%-24s %12s %12s %8s\n' "$metric" "$l" "$b" \
			"$(awk -v l="$l" -v b="$b" 'BEGIN { if (l == "-" || b == "-" || b == 0) print "-";
				else printf "%.3f", l / b }')"
	done
	echo
	echo "VM exits during the workload (lamina runs, medians):"
	printf '%-24s %12s %12s\n' reason exits exits/s
	awk -F'\t' -v p="$p" '$1 == p && $4 ~ /^exits / { print substr($4, 7) }' "$RESULTS" |
		sort -u | grep -vx 'all but cpuid' | { cat; echo 'all but cpuid'; } |
		while IFS= read -r reason; do
			printf '%-24s %12s %12s\n' "$reason" "$(values "$p" lamina "exits $reason" | median %.0f)" \
				"$(values "$p" lamina "exits/s $reason" | median %.1f)"
		done
}

main() {
	local p mode run log failed=0
	declare -A dead=()
	rm -rf "$OUT" && mkdir -p "$OUT" && : >"$RESULTS"
	"$here/mkinitramfs.sh" "$OUT/initramfs.cpio" || exit 1
	[ -e "$LAMINA" ] || { echo "bench: no $LAMINA: bare runs only"; dead[lamina]=1; }
	for run in $(seq 1 "$RUNS"); do
		for p in $PLATFORMS; do
			declare -F "run_$p" >/dev/null || { echo "bench: no platform '$p'"; exit 2; }
			[ "$run" -le "$(runs_of "$p")" ] || continue
			for mode in lamina bare; do
				[ -z "${dead[$p.$mode]:-}${dead[$mode]:-}" ] || continue
				log=$OUT/$p-$mode-$run.log
				echo "bench: $p $mode run $run/$(runs_of "$p")"
				if ! "run_$p" "$mode" "$log" || ! record "$p" "$mode" "$run" "$log"; then
					echo "bench: $p $mode run $run failed (log: $log); no more $p $mode runs"
					dead[$p.$mode]=1 failed=1
				fi
			done
		done
	done
	for p in $PLATFORMS; do report "$p"; done
	echo
	echo "Runs' logs and numbers: $OUT"
	return $failed
}

main
