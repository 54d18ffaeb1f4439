#!/usr/bin/env bash
# cpu_policy under lamina on QEMU (AMD-V): SVM hidden, the rest of the CPU passes through.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina cpu_policy "$CPUID_EPYC_ROME" 1
guest_report cpu_policy
expect_in "$HVLOG" "the guest tried to move its local APIC from 0xfee00000 to 0xfed00000: refused" \
	"lamina logged the refused APIC move"
expect_in "$HVLOG" "the guest tried to write 0x[0-9a-f]+ to MTRR MSR 0x2[0-4][0-9a-f], which would make lamina's memory at 0x[0-9a-f]+ WC" \
	"lamina logged the refused MTRR write"
expect_in "$HVLOG" "the guest tried to change TOP_MEM \\(C001_001A\\) from 0x[0-9a-f]+ to 0x[0-9a-f]+: refused" \
	"lamina logged the refused TOP_MEM write"
expect_in "$HVLOG" "the guest tried to load microcode \\(MSR 0x(79|c0010020)\\): dropped" \
	"lamina logged the dropped microcode load"
expect_in "$HVLOG" "the guest tried to move SMM_BASE \\(C001_0111\\) from 0x[0-9a-f]+ to 0x[0-9a-f]+: refused" \
	"lamina logged the refused SMM_BASE move"
expect_in "$HVLOG" "the guest tried to write 0x2 to SMM MSR 0xc0010116: refused" \
	"lamina logged the refused SMM_CTL write"
check_amd_voltage_refusal
finish
