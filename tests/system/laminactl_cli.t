#!/usr/bin/env bash
# laminactl's command line, run on the build host (never lamina's guest):
# help, usage errors (status 2), and "not running under lamina" (status 1)
# without a crash, whether the hypercall faults or another hypervisor
# answers it, and even when started with the fault signals blocked.
. "$(dirname "$0")/lib.sh"
ctl=$BUILD/laminactl
need "$ctl" || finish

# run_ctl ARGS...: sets RC; stdout and stderr in $WORK/out, $WORK/err.
run_ctl() {
	"$ctl" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
}

run_ctl help
check "help exits 0" [ $RC -eq 0 ]
expect_in "$WORK/out" '^usage: laminactl COMMAND' "help prints the usage"
for cmd in version stats meminfo log; do
	expect_in "$WORK/out" "^  $cmd " "help lists $cmd"
done

run_ctl frobnicate
check "an unknown command exits 2" [ $RC -eq 2 ]
expect_in "$WORK/err" "unknown command 'frobnicate'" "an unknown command is named"
expect_in "$WORK/err" '^usage: laminactl' "an unknown command prints the usage on stderr"
run_ctl
check "no command exits 2" [ $RC -eq 2 ]
run_ctl version extra
check "extra arguments exit 2" [ $RC -eq 2 ]

for cmd in version stats meminfo log; do
	run_ctl "$cmd"
	check "$cmd outside lamina exits 1 (status $RC)" [ $RC -eq 1 ]
	check "$cmd outside lamina says so, and only that" \
		[ "$(cat "$WORK/err")" = "laminactl: not running under lamina" ]
done

# Started with SIGILL, SIGSEGV and SIGBUS blocked, the faulting probe would
# kill it ("Illegal instruction") unless laminactl unblocks them itself.
if need "$BUILD/blocked"; then
	"$BUILD/blocked" "$ctl" version >"$WORK/out" 2>"$WORK/err"
	RC=$?
	check "with the fault signals blocked, version outside lamina exits 1 (status $RC)" \
		[ $RC -eq 1 ]
	check "with the fault signals blocked, it says not running under lamina" \
		[ "$(cat "$WORK/err")" = "laminactl: not running under lamina" ]
fi
finish
