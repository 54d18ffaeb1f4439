#!/usr/bin/env bash
# Suspend to RAM under lamina on QEMU TCG (AMD-V), 2 CPUs. In S3 the CPUs
# lose their state and SeaBIOS resumes at the waking vector with SVM off:
# lamina sleeps the machine itself with its own waking code in the FACS,
# and wakes the guest under lamina (core/suspend.c). A sleep written to
# PM1a_CNT with no waking vector set is refused; Linux's own S3, woken by
# an RTC alarm, comes back with both CPUs under lamina; a second one,
# which QEMU no longer takes, returns to the guest with both still there.
. "$(dirname "$0")/lib.sh"
need "$LAMINA" "$BUILD/laminactl" "$BUILD/pm1_sleep" "$(linux_kernel)" || finish

# QEMU 7.2 with its SeaBIOS does not power off at Linux's `poweroff -f`
# once the machine has been in S3, without lamina as well ("reboot: Power
# down" and QEMU runs on): the run is ended a second after the scenario.
POWEROFF_WAIT=1 linux_under_lamina_qemu 2 1G "lamina.test=sleep"

expect_in "$lamina_log" 'ACPI: \\_S3 \(SLP_TYP [0-7]/[0-7]\) in DSDT: lamina sleeps and wakes from it' \
	"lamina leaves \\_S3 in the DSDT"
expect_in "$lamina_log" 'ACPI: PM1a_CNT at port 0x[0-9a-f]+: a sleep with SLP_TYP in 0x[0-9a-f]+ is lamina.s to enter' \
	"lamina hooked PM1a_CNT"
expect_ltest "$log" mem_sleep "s2idle [deep]" "Linux offers S3 (deep, its default)"
s3=$(sed -n 's/.*ACPI: \\_S3 (SLP_TYP \([0-7]\)\/.*/\1/p' "$lamina_log" | head -1)
expect_ltest "$log" pm1.typ "${s3:-?}" "pm1_sleep found the S3 type lamina reported (${s3:-none})"
expect_ltest "$log" pm1.rc 0 "a direct write of S3 to PM1a_CNT with no waking vector returned to the guest"
expect_in "$lamina_log" "the guest's sleep \(0x[0-9a-f]+ to port 0x[0-9a-f]+\) is refused \(dropped\): the guest left no waking vector" \
	"lamina refused a sleep it could not wake the guest from"
expect_ltest "$log" suspend1.rc 0 "echo mem >/sys/power/state came back without an error"
expect_ltest "$log" suspend2.rc 0 "a second suspend came back without an error"
expect_ltest "$log" s3.count 2 "Linux counts two successful suspends"
expect_in "$lamina_log" 'the machine sleeps \(0x[0-9a-f]+ to port 0x[0-9a-f]+\); lamina wakes it at' \
	"lamina entered S3 with its own waking vector"
# After a resume QEMU 7.2's ICH9 no longer decodes the ACPI PM block
# (SeaBIOS does not restore it; bare Linux cannot power off then either):
# Linux's second S3 write (read-modify-write of all-ones) reaches nothing,
# and lamina's path for a machine that does not sleep gives the guest its
# pages and vector back and releases the held CPU.
check "lamina woke once" [ "$(grep -c 'woke from the sleep state' "$lamina_log")" = 1 ]
expect_in "$lamina_log" 'the machine did not sleep within 10 s of the guest.s write; the guest goes on' \
	"the second sleep, which QEMU does not take, returned to the guest"
expect_in "$lamina_log" 'the guest resumes at its waking vector' "the guest resumed at its own waking vector"
expect_in "$lamina_log" 'the guest started CPU 1 .* at' "Linux started CPU 1 again, through lamina"
expect_ltest "$log" cpus.online 0-1 "both CPUs online after the wake"
expect_ltest "$log" cpu0.version.rc 0 "CPU 0 runs under lamina after the wake"
expect_ltest "$log" cpu1.version.rc 0 "CPU 1 runs under lamina after the wake"
expect_ltest "$log" work.rc 0 "a CPU workload completes after the wake"
expect_in "$log" '^LTEST: done' "scenario finishes"
case $RUN_STATUS in exit:0 | "no exit after LTEST: done") ended=yes ;; *) ended=no ;; esac
check "the scenario ran to its end ($RUN_STATUS)" [ "$ended" = yes ]
finish_linux
