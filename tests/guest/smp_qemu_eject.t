#!/usr/bin/env bash
# smp under lamina on QEMU (AMD-V), 4 CPUs, eject: QEMU's ACPI CPU
# hot-plug registers would remove a CPU lamina runs on; lamina drops the
# eject and says so, and the CPU stays.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina smp "eject" 4
guest_report smp
expect_in "$HVLOG" "the guest asked QEMU to eject a CPU through its hot-plug registers \\(port 0xcdc\\): dropped" \
	"lamina logged the dropped eject"
expect_not_in "$HVLOG" "FATAL|PANIC" "lamina did not panic"
finish
