#!/usr/bin/env bash
# CPU offline/online under lamina on QEMU TCG (AMD-V), 2 CPUs: Linux takes
# CPU 1 offline and brings it back twice. The CPU must come back under
# lamina (QEMU resets a CPU that an INIT reaches, so lamina has to catch
# the INIT and SIPI at the sender, see docs/architecture.md), and both
# CPUs must answer lamina's hypercalls afterwards.
. "$(dirname "$0")/lib.sh"
need "$LAMINA" "$BUILD/laminactl" "$BUILD/workload" "$(linux_kernel)" || finish

linux_under_lamina_qemu 2 1G "lamina.test=hotplug"

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
check "poweroff -f ends QEMU within the timeout ($RUN_STATUS)" [ "$RUN_STATUS" = exit:0 ]
finish_linux
