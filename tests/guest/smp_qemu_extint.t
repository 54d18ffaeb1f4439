#!/usr/bin/env bash
# smp under lamina on QEMU (AMD-V), 4 CPUs, extint: before its SIPI the
# first AP, which waits in lamina with interrupts open, gets ExtINTs on
# the 8259's vector 8 (#DF's, for which the CPU pushes an error code and
# an interrupt does not). lamina must drop them and start every AP; the
# wrong frame once stopped every CPU.
. "$(dirname "$0")/guest.sh"
guest_qemu_lamina smp "extint" 4
guest_report smp
expect_not_in "$HVLOG" "FATAL" "lamina took the ExtINTs as interrupts"
finish
