#!/usr/bin/env bash
# triple_fault bare on QEMU: the kernel does triple-fault (QEMU -no-reboot then exits).
. "$(dirname "$0")/guest.sh"
RUN_LINGER=3 MARKER="^lamina-test: triple-fault now" guest_qemu_bare triple_fault "" 1
expect_in "$LOG" "^lamina-test: triple-fault now" "the kernel got to its triple fault"
check "QEMU stopped on the triple fault ($RUN_STATUS)" [ "$RUN_STATUS" = marker-exit:0 ]
[ "$RUN_STATUS" = marker-exit:0 ] || show_logs
finish
