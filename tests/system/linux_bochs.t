#!/usr/bin/env bash
# Debian's Linux under lamina on Bochs Haswell (VT-x with EPT, VPID and
# unrestricted guest), 2 CPUs, 1 GiB, booted from a GRUB ISO (multiboot2
# lamina, module2 bzImage and initrd); lamina's log on COM2, the guest's
# console on COM1: the AP started through wait-for-SIPI, the memory map
# that hides lamina, a workload (without its long cpu part: Bochs is ~10x
# slower than QEMU), NMIs between the guest's CPUs, laminactl, and a clean
# power-off. Bochs exits with
# status 1 even then: the run is judged by markers. linux_bochs_amd.t runs
# the same on Bochs's AMD-V (BOCHS_LINUX_MODEL=zambezi).
. "$(dirname "$0")/lib.sh"
bochs_linux_vendor
need "$LAMINA" "$BUILD/laminactl" "$BUILD/workload" "$(linux_kernel)" || finish

log=$WORK/serial.log lamina_log=$WORK/lamina.log
make_initramfs "$WORK/initramfs.cpio"
bochs_linux_iso lamina "$WORK/linux.iso" \
	"$LINUX_CONSOLE lamina.test=check lamina.work=mem,spawn lamina.nmi=1" "$WORK/initramfs.cpio" "console=com2"
# After "LTEST: done", /init powers off: Bochs should end by itself.
RUN_LINGER=15 bochs_run "$log" '^LTEST: done|Kernel panic' "${BOCHS_LINUX_TIMEOUT:-900}" \
	"$BOCHS_LINUX_MODEL" 2 "$BOCHS_LINUX_MEGS" "$WORK/linux.iso" "$lamina_log"

expect_in "$lamina_log" "virtualization: $VENDOR" "lamina runs on $VENDOR (log on COM2)"
expect_in "$log" '^LTEST: init' "Linux reaches /init under lamina"
expect_ltest "$log" cpus.online 0-1 "2 CPUs online"
expect_ltest "$log" cpus.nproc 2 "nproc is 2"
expect_in "$lamina_log" 'the guest started CPU 1 .* at [0-9a-f]{4}:0000' "the AP started at the guest's SIPI vector"
expect_in "$lamina_log" 'APIC intercepts dropped' "no APIC intercepts once the AP runs"

expect_ltest "$log" version.rc 0 "laminactl version works"
expect_ltest "$log" version "back end: $VENDOR_NAME" "laminactl version names the $VENDOR back end"
expect_ltest "$log" version "cpus: 2" "laminactl version counts 2 CPUs"

check_hidden_range "$log"
check_mtrr_writes "$log" "$lamina_log"
check_sleep_states "$log" "$lamina_log" "$VENDOR"

expect_ltest "$log" work ok "workload completes"
expect_ltest "$log" nmi cpu1 "the guest's NMI to CPU 1 arrives (NMI exit, then injected)"
expect_ltest "$log" stats.rc 0 "laminactl stats works"
expect_in "$log" '^LTEST: stats: reason +cpu0 +cpu1 +total[[:space:]]*$' "laminactl stats prints a table of 2 CPUs"
for cpu in cpu0 cpu1; do
	n=$(stats_cell "$log" stats cpuid "$cpu")
	check "$cpu counted CPUID exits (${n:-none})" [ "${n:-0}" -gt 0 ]
done
expect_in "$log" '^LTEST: done' "scenario finishes"
expect_in "$log" 'reboot: Power down' "Linux powers off"
check "Bochs ends by itself after the power-off ($RUN_STATUS)" [ "${RUN_STATUS%%:*}" = marker-exit ]
expect_not_in "$lamina_log" 'lamina: PANIC|FATAL|guest stopped' "lamina did not panic or stop the guest"
finish_linux
