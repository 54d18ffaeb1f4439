#!/usr/bin/env bash
# GRUB multiboot2 on QEMU (AMD-V): the same image boots from GRUB with
# module2 lines, and the Multiboot guest gets its command line unchanged.
. "$(dirname "$0")/../guest/guest.sh"
need_built "$LAMINA" "$GUEST_DIR/cpu_policy.elf"
make_iso "$WORK/test.iso" "multiboot2 /boot/lamina.elf console=com2
module2 /boot/cpu_policy.elf cpu_policy.elf $CPUID_EPYC_ROME
boot" "$LAMINA" "$GUEST_DIR/cpu_policy.elf"
HVLOG=$WORK/com2.log
run_until "$LOG" "$(done_marker cpu_policy)" 90 \
	qemu-system-x86_64 -accel tcg -machine q35 -cpu "$QEMU_CPU" -smp 1 -m 512 \
	-cdrom "$WORK/test.iso" -serial "file:$LOG" -serial "file:$HVLOG" \
	-display none -no-reboot -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04
expect_in "$HVLOG" "loaded by GRUB .* \\(Multiboot2\\)" "lamina was loaded through multiboot2"
expect_in "$HVLOG" "starting the Multiboot guest" "lamina started the module2 kernel"
expect_in "$LOG" "^# cmdline: cpu_policy.elf $CPUID_EPYC_ROME\$" "the kernel got its module2 string unchanged"
relay_tap "$LOG"
expect_in "$LOG" "$(done_marker cpu_policy)" "the guest ran to the end"
finish
