#!/usr/bin/env bash
# smp under lamina on QEMU (AMD-V), 4 CPUs, stray: before their SIPIs the
# APs, which wait in lamina with interrupts open, get fixed IPIs on
# vectors 0x11, 0x12 (#MC's), 0x14, 0x1f (exception vectors, delivered all the same),
# 0x30 and 0xff (lamina's spurious vector). lamina must drop them and
# start every AP; an exception vector once stopped every CPU ("FATAL").
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina smp "stray" 4
guest_report smp
expect_not_in "$HVLOG" "FATAL" "lamina took the stray interrupts as interrupts"
finish
