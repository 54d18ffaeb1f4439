#!/usr/bin/env bash
# Runs tests, J at a time, and prints "N passed, M failed" last.
# A test is an executable: a cmocka unit binary (run with TAP output) or a
# script (*.t) using tests/lib/common.sh. Results are counted from TAP
# lines ("ok - name", "not ok - name"); a test that prints none counts as
# one result from its exit status, and a non-zero exit with no failing line
# counts as one more failure. Logs go to build/test-logs/.
set -u
J=${J:-2}
LOGDIR=${LOGDIR:-build/test-logs}
mkdir -p "$LOGDIR"
export CMOCKA_MESSAGE_OUTPUT=TAP

run_one() {
	local t=$1 name log rc start end
	name=$(basename "$t")
	log="$LOGDIR/$name.log"
	start=$(date +%s)
	"$t" >"$log" 2>&1 </dev/null
	rc=$?
	end=$(date +%s)
	local ok nok
	ok=$(grep -cE '^ok( [0-9]+)? - ' "$log")
	nok=$(grep -cE '^not ok( [0-9]+)? - ' "$log")
	if [ "$ok" -eq 0 ] && [ "$nok" -eq 0 ]; then
		if [ $rc -eq 0 ]; then ok=1; else nok=1; fi
	elif [ $rc -ne 0 ] && [ "$nok" -eq 0 ]; then
		nok=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	{
		grep -E '^(not )?ok( [0-9]+)? - ' "$log" | sed "s|^|[$name] |"
		if [ "$nok" -gt 0 ]; then
			echo "---- $name failed (log: $log), last lines:"
			tail -n 40 "$log" | sed 's/^/    /'
		fi
		echo "== $name: $ok passed, $nok failed ($((end - start)) s)"
	} >"$log.summary"
	echo "$ok $nok" >"$log.count"
	cat "$log.summary"
}
export -f run_one
export LOGDIR

rm -f "$LOGDIR"/*.count
printf '%s\n' "$@" | xargs -P "$J" -I{} bash -c 'run_one "$@"' _ {}
pass=0 fail=0
for t in "$@"; do
	c="$LOGDIR/$(basename "$t").log.count"
	if [ -f "$c" ]; then
		read -r a b <"$c"
	else
		a=0 b=1
		echo "not ok - $(basename "$t") did not run"
	fi
	pass=$((pass + a)) fail=$((fail + b))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
