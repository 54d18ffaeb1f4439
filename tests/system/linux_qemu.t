#!/usr/bin/env bash
# Debian's Linux under lamina on QEMU TCG (AMD-V with NPT), 4 CPUs, 2 GiB,
# lamina's log on COM2 and the guest's console on COM1: SMP, the memory map
# that hides lamina, the workload, laminactl, and a clean power-off.
. "$(dirname "$0")/lib.sh"
need "$LAMINA" "$BUILD/laminactl" "$BUILD/workload" "$(linux_kernel)" || finish

linux_under_lamina_qemu 4 2G "lamina.test=check"

expect_in "$lamina_log" . "lamina logs on COM2"
expect_in "$log" '^LTEST: init' "Linux reaches /init under lamina"
expect_ltest "$log" cpus.online 0-3 "4 CPUs online"
expect_ltest "$log" cpus.nproc 4 "nproc is 4"

expect_ltest "$log" version.rc 0 "laminactl version works"
expect_in "$log" '^LTEST: version: lamina version: [0-9]+\.[0-9]+\.[0-9]+' "laminactl version names lamina's version"
expect_ltest "$log" version "back end: AMD-V (SVM)" "laminactl version names the AMD-V back end"
expect_ltest "$log" version "cpus: 4" "laminactl version counts 4 CPUs"

check_hidden_range "$log"
check_mtrr_writes "$log" "$lamina_log"
check_sleep_states "$log" "$lamina_log" AMD-V
# QEMU's APs come up without SeaBIOS's MTRRs (bare too): Linux copies the
# boot CPU's to them, through lamina's MTRR policy.
expect_in "$log" '^LTEST: mtrr: .*corrected configuration' "Linux set the APs' MTRRs under lamina"

expect_ltest "$log" work ok "workload completes"
expect_ltest "$log" stats.rc 0 "laminactl stats works"
expect_in "$log" '^LTEST: stats: reason +cpu0 +cpu1 +cpu2 +cpu3 +total[[:space:]]*$' "laminactl stats prints a table of 4 CPUs"
for cpu in cpu0 cpu1 cpu2 cpu3; do
	n=$(stats_cell "$log" stats cpuid "$cpu")
	check "$cpu counted CPUID exits (${n:-none})" [ "${n:-0}" -gt 0 ]
done
expect_in "$log" '^LTEST: done' "scenario finishes"
check "poweroff -f ends QEMU within the timeout ($RUN_STATUS)" [ "$RUN_STATUS" = exit:0 ]
finish_linux
