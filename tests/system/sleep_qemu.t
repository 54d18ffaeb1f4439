#!/usr/bin/env bash
# Suspend to RAM under lamina on QEMU TCG (AMD-V), 2 CPUs. In S3 the CPUs
# lose their state and SeaBIOS resumes at Linux's waking vector with SVM
# off: before lamina hid S3, Linux woke from `echo mem >/sys/power/state`
# (with an RTC alarm) no longer under lamina. Now Linux finds no S3, and
# a sleep into it written to PM1a_CNT directly is refused.
. "$(dirname "$0")/lib.sh"
need "$LAMINA" "$BUILD/laminactl" "$BUILD/pm1_sleep" "$(linux_kernel)" || finish

linux_under_lamina_qemu 2 1G "lamina.test=sleep"

expect_in "$lamina_log" 'ACPI: \\_S3 \(SLP_TYP [0-7]/[0-7]\) hidden in DSDT' "lamina hid \\_S3 in the DSDT"
expect_in "$lamina_log" 'ACPI: PM1a_CNT at port 0x[0-9a-f]+: a sleep with SLP_TYP in 0x[0-9a-f]+ is refused' \
	"lamina hooked PM1a_CNT"
expect_ltest "$log" mem_sleep "[s2idle]" "Linux offers no S3 (mem_sleep is s2idle only)"
check "Linux cannot choose S3 (deep) ($(ltest "$log" mem_sleep.deep))" \
	[ "$(ltest "$log" mem_sleep.deep)" != 0 ]
s3=$(sed -n 's/.*ACPI: \\_S3 (SLP_TYP \([0-7]\)\/.*/\1/p' "$lamina_log" | head -1)
expect_ltest "$log" pm1.typ "${s3:-?}" "pm1_sleep found the S3 type lamina reported (${s3:-none})"
expect_ltest "$log" pm1.rc 0 "a direct write of S3 to PM1a_CNT returned to the guest"
expect_ltest "$log" cpu0.version.rc 0 "CPU 0 runs under lamina after the PM1a_CNT write"
expect_ltest "$log" cpu1.version.rc 0 "CPU 1 runs under lamina after the PM1a_CNT write"
expect_in "$lamina_log" "the guest tried to enter a sleep state with SLP_TYP ${s3:-?} at PM1a_CNT: refused" \
	"lamina logged the refused sleep"
expect_in "$log" '^LTEST: done' "scenario finishes"
check "poweroff -f ends QEMU within the timeout ($RUN_STATUS)" [ "$RUN_STATUS" = exit:0 ]
finish_linux
