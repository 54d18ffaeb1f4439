#!/usr/bin/env bash
# triple_fault under lamina on Bochs Haswell (VT-x): lamina reports it and stays up.
. "$(dirname "$0")/guest.sh"
RUN_WATCH=$WORK/com2.log RUN_LINGER=3 MARKER="[Tt]riple[ -][Ff]ault" \
	guest_bochs_lamina triple_fault "" $BOCHS_HASWELL 1
check_triple_fault
finish
