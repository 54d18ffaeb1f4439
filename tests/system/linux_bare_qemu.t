#!/usr/bin/env bash
# Linux and the test initramfs on QEMU without lamina: the harness, the
# initramfs and the workload work on their own, and laminactl says it is
# not running under lamina (its hypercall raises #UD) and exits 1.
. "$(dirname "$0")/lib.sh"
need "$BUILD/laminactl" "$BUILD/workload" "$(linux_kernel)" || finish

log=$WORK/serial.log
make_initramfs "$WORK/initramfs.cpio"
check "initramfs built" test -s "$WORK/initramfs.cpio"
qemu_linux bare 4 2G "$LINUX_CONSOLE lamina.test=check" "$WORK/initramfs.cpio"
run_to_exit "$log" 240 "${QEMU_CMD[@]}" -serial "file:$log" -monitor none

expect_in "$log" '^LTEST: init' "Linux reaches /init"
expect_ltest "$log" cpus.online 0-3 "4 CPUs online"
expect_ltest "$log" cpus.nproc 4 "nproc is 4"
expect_in "$log" '^LTEST: e820: \[mem 0x[0-9a-f]+-0x[0-9a-f]+\] usable' "e820 map reported"
expect_ltest "$log" version "laminactl: not running under lamina" "laminactl version: not running under lamina"
expect_ltest "$log" version.rc 1 "laminactl version exits 1"
expect_ltest "$log" meminfo.rc 1 "laminactl meminfo exits 1"
expect_ltest "$log" stats.rc 1 "laminactl stats exits 1"
expect_not_in "$log" 'Illegal instruction|SIGILL|segfault' "laminactl does not crash"
expect_ltest "$log" work ok "workload completes"
expect_in "$log" '^LTEST: done' "scenario finishes"
check "poweroff -f ends QEMU within the timeout ($RUN_STATUS)" [ "$RUN_STATUS" = exit:0 ]
[ $FAILED -eq 0 ] || show_log "$log"
finish
