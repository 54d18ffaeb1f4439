#!/usr/bin/env bash
# A first module that is neither a bzImage nor a Multiboot kernel, and no
# module at all: lamina says which module and why, and stays up.
. "$(dirname "$0")/../guest/guest.sh"
need_built "$LAMINA"

STAYS='lamina stays up with no guest running'
printf 'this is not a kernel\n' >"$WORK/notes.txt"
qemu_lamina "$WORK/bad.log" "$STAYS" 60 2 256 "" "$WORK/notes.txt notes.txt arg"
expect_in "$WORK/bad.log" "cannot start module 1 '$WORK/notes.txt' \\(21 bytes\\): it is neither a Linux bzImage .* nor a Multiboot kernel" \
	"a text file as the guest: lamina names the module and says why"
expect_in "$WORK/bad.log" "$STAYS" "lamina stays up after refusing the module"
check "QEMU was still running when lamina said so ($RUN_STATUS)" [ "$RUN_STATUS" = marker ]
expect_not_in "$WORK/bad.log" 'PANIC|FATAL' "no lamina panic for a bad module"

qemu_lamina "$WORK/none.log" "$STAYS" 60 1 256 "" ""
expect_in "$WORK/none.log" 'no boot module: give the guest' "no module at all: lamina says so"
expect_in "$WORK/none.log" "$STAYS" "lamina stays up without a module"
finish
