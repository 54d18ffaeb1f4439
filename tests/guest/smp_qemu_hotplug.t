#!/usr/bin/env bash
# smp under lamina on QEMU (AMD-V) with 2 CPUs and room for 2 more
# (-smp 2,maxcpus=4): the MADT lists the two hot-pluggable CPUs as
# disabled, which the guest may bring online later outside lamina, so
# lamina keeps the APIC intercepts that drop INIT/SIPI to them.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina smp "outside" "2,maxcpus=4"
guest_report smp
expect_in "$HVLOG" "the MADT lists 2 CPUs the guest may bring online later" \
	"lamina sees the hot-pluggable CPUs"
expect_in "$HVLOG" "not every CPU of this machine is under lamina .*: the guest's INIT and SIPI to those are dropped" \
	"and that the guest cannot start them"
expect_not_in "$HVLOG" "APIC intercepts dropped" "the APIC intercepts stay on"
finish
