#!/usr/bin/env bash
# smp under lamina on Bochs Ryzen (AMD-V), 2 CPUs, stray=no-ff: as on QEMU
# (smp_qemu_stray.t), on the other AMD-V implementation, without vector
# 0xff: Bochs 2.7 ignores an EOI while the spurious vector is the highest
# in service, so a fixed interrupt on it blocks that CPU's APIC for good
# there (QEMU and the SDM clear it).
. "$(dirname "$0")/guest.sh"
guest_bochs_lamina smp "stray=no-ff" $BOCHS_RYZEN 2
guest_report smp
expect_not_in "$HVLOG" "FATAL" "lamina took the stray interrupts as interrupts"
finish
