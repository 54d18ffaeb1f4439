#!/usr/bin/env bash
# triple_fault under lamina on QEMU (AMD-V): lamina reports it and stays up.
. "$(dirname "$0")/guest.sh"
# Wait for lamina to report it on its own console, then 3 s more.
RUN_WATCH=$WORK/com2.log RUN_LINGER=3 MARKER="[Tt]riple[ -][Ff]ault" \
	guest_qemu_lamina triple_fault "" 1
check_triple_fault
finish
