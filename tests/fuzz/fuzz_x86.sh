#!/bin/sh
# Runs the x86 decoder/emulator fuzz target (tests/fuzz/fuzz_x86.c) for
# FUZZ_X86_SECONDS (default 20) from a few seeds, and prints one TAP line.
# A failing input is kept in build/test-work/fuzz_x86/ to replay:
#   build/fuzz/fuzz_x86 build/test-work/fuzz_x86/crash-...
set -u
bin=$1
secs=${FUZZ_X86_SECONDS:-20}
top=$(cd "$(dirname "$0")/../.." && pwd)
work=${BUILD:-$top/build}/test-work/fuzz_x86
rm -rf "$work" && mkdir -p "$work/corpus"

# Settings byte (mode, max_rep, faulting access), 8 register-seed bytes,
# then an instruction: MOV, ALU with SIB, REP MOVSW, BTS, VEX, 3DNow!.
seed() { printf "$2" >"$work/corpus/$1"; }
seed mov64 '\002\001\002\003\004\005\006\007\010\211\003'
seed alu32 '\361\021\042\063\104\125\146\167\210\201\104\265\020\001\002\003\004'
seed rep16 '\360\377\000\177\001\002\003\004\005\363\245'
seed bts64 '\362\200\001\002\003\004\005\006\007\360\110\017\253\003'
seed vex64 '\002\000\000\000\000\000\000\000\000\305\370\167'
seed now32 '\001\000\000\000\000\000\000\000\000\017\017\300\236'

if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" \
	>"$work/log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	echo "ok - fuzz_x86: ${runs:-?} inputs in ${secs} s, invariants held"
else
	echo "not ok - fuzz_x86: an invariant failed (log and input in $work)"
	grep -E 'ERROR|SUMMARY|Test unit written' "$work/log" | head -5 | sed 's/^/# /'
	exit 1
fi
