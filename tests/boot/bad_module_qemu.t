#!/usr/bin/env bash
# A first module that is neither a bzImage nor a Multiboot kernel (an
# empty one too), and no module at all: lamina says which module and why,
# and stays up.
. "$(dirname "$0")/../guest/guest.sh"
need_built "$LAMINA" "$GUEST_DIR/hypercall.elf"

STAYS='lamina stays up with no guest running'
printf 'this is not a kernel\n' >"$WORK/notes.txt"
qemu_lamina "$WORK/bad.log" "$STAYS" 60 2 256 "" "$WORK/notes.txt notes.txt arg"
expect_in "$WORK/bad.log" "cannot start module 1 '$WORK/notes.txt' \\(21 bytes\\): it is neither a Linux bzImage .* nor a Multiboot kernel" \
	"a text file as the guest: lamina names the module and says why"
expect_in "$WORK/bad.log" "$STAYS" "lamina stays up after refusing the module"
check "QEMU was still running when lamina said so ($RUN_STATUS)" [ "$RUN_STATUS" = marker ]
expect_not_in "$WORK/bad.log" 'PANIC|FATAL' "no lamina panic for a bad module"

# A Multiboot ELF64 kernel whose one segment starts 4 KiB below 2^64 in the
# file: offset + size wraps to 4 KiB, which a careless check lets through.
le() { # VALUE BYTES: little-endian
	local i
	for ((i = 0; i < $2; i++)); do printf "\\x$(printf %02x $((($1 >> (8 * i)) & 255)))"; done
}
{
	printf '\x7fELF\x02\x01\x01'; le 0 9                  # e_ident
	le 2 2; le 0x3e 2; le 1 4; le 0x200000 8; le 64 8; le 0 8 # type .. e_shoff
	le 0 4; le 64 2; le 56 2; le 1 2; le 0 6                  # flags .. shstrndx
	le 1 4; le 5 4; le 0xfffffffffffff000 8                   # PT_LOAD, offset
	le 0x200000 8; le 0x200000 8; le 0x2000 8; le 0x2000 8; le 0x1000 8
	head -c $((0x100 - 120)) /dev/zero
	le 0x1badb002 4; le 3 4; le 0xe4524ffb 4                  # Multiboot header
	head -c $((0x3000 - 0x10c)) /dev/zero
} >"$WORK/wrap.elf"
qemu_lamina "$WORK/wrap.log" "$STAYS" 60 1 256 "" "$WORK/wrap.elf wrap.elf"
expect_in "$WORK/wrap.log" "cannot start module 1 '$WORK/wrap.elf' \\(12288 bytes\\): an ELF segment runs past the end of the file" \
	"an ELF segment whose offset + size wraps: refused, named"
expect_not_in "$WORK/wrap.log" 'PANIC|FATAL' "no lamina panic for it"

# An empty file before a real kernel: QEMU gives it mod_end == mod_start.
# It keeps its place, so module 1 is refused, not module 2 started.
: >"$WORK/empty.bin"
qemu_lamina "$WORK/empty.log" "$STAYS" 60 1 256 "" \
	"$WORK/empty.bin empty.bin,$GUEST_DIR/hypercall.elf hypercall.elf"
expect_in "$WORK/empty.log" "cannot start module 1 '$WORK/empty.bin' \\(0 bytes\\): it is neither" \
	"an empty module 1 keeps its place: refused, named, not skipped for module 2"
expect_not_in "$WORK/empty.log" 'PANIC|FATAL' "no lamina panic for it"

qemu_lamina "$WORK/none.log" "$STAYS" 60 1 256 "" ""
expect_in "$WORK/none.log" 'no boot module: give the guest' "no module at all: lamina says so"
expect_in "$WORK/none.log" "$STAYS" "lamina stays up without a module"
finish
