#!/usr/bin/env bash
# smp under lamina on QEMU (AMD-V), 4 CPUs of which lamina takes 2
# (maxcpus=2): the guest's INIT/SIPI/SIPI to the two CPUs lamina does not
# run must never start them (they would run outside virtualization), and
# the APIC intercepts that drop them stay on.
. "$(dirname "$0")/guest.sh"
HV_ARGS="maxcpus=2" guest_qemu_lamina smp "aps=1" 4
guest_report smp
expect_in "$HVLOG" "maxcpus=2: the CPU with APIC ID 2 is left out" \
	"lamina says which CPUs it leaves out"
expect_in "$HVLOG" "not every CPU of this machine is under lamina .*: the guest's INIT and SIPI to those are dropped" \
	"and that the guest cannot start them"
expect_not_in "$HVLOG" "APIC intercepts dropped" "the APIC intercepts stay on"
finish
