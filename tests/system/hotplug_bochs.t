#!/usr/bin/env bash
# CPU offline/online under lamina on Bochs Haswell (VT-x), 2 CPUs: the
# same scenario as hotplug_qemu.t. Linux parks the CPU it takes offline
# with WBINVD and interrupts off (mwait_play_dead or hlt_play_dead); lamina
# sees the WBINVD (WBINVD exiting), traps the ICR again and catches the
# guest's INIT at the sender, so the INIT never reaches the CPU in VMX
# non-root operation (Bochs 2.7 would keep it pending for good, see
# arch/x86/vmx/vmx.c). Bochs exits with status 1 even after a clean
# power-off: the run is judged by markers. hotplug_bochs_amd.t runs the
# same on Bochs's AMD-V (BOCHS_LINUX_MODEL=zambezi).
. "$(dirname "$0")/lib.sh"
bochs_linux_vendor
need "$LAMINA" "$BUILD/laminactl" "$BUILD/workload" "$(linux_kernel)" || finish

log=$WORK/serial.log lamina_log=$WORK/lamina.log
make_initramfs "$WORK/initramfs.cpio"
bochs_linux_iso lamina "$WORK/linux.iso" "$LINUX_CONSOLE lamina.test=hotplug" \
	"$WORK/initramfs.cpio" "console=com2"
RUN_LINGER=15 bochs_run "$log" '^LTEST: done|Kernel panic' "${BOCHS_LINUX_TIMEOUT:-900}" \
	"$BOCHS_LINUX_MODEL" 2 "$BOCHS_LINUX_MEGS" "$WORK/linux.iso" "$lamina_log"

expect_in "$lamina_log" "virtualization: $VENDOR" "lamina runs on $VENDOR (log on COM2)"
check_hotplug "$log" "$lamina_log"
expect_in "$log" 'reboot: Power down' "Linux powers off"
check "Bochs ends by itself after the power-off ($RUN_STATUS)" [ "${RUN_STATUS%%:*}" = marker-exit ]
expect_not_in "$lamina_log" 'lamina: PANIC|FATAL|guest stopped' "lamina did not panic or stop the guest"
finish_linux
