#!/bin/sh
# gen-symbols.sh ELF: assembly for lamina's function-name table (sorted by
# address), read by core/symbols.c. With no ELF, an empty table.
set -e
echo '	.section .lamina_symbols, "a"'
echo '	.balign 8'
echo '	.globl lamina_symbol_table, lamina_symbol_count'
echo 'lamina_symbol_count:'
if [ -z "$1" ]; then
	echo '	.quad 0'
	echo 'lamina_symbol_table:'
	exit 0
fi
nm -n --defined-only "$1" | awk '
	$2 ~ /^[tT]$/ { addr[n] = $1; name[n] = $3; n++ }
	END {
		printf "\t.quad %d\nlamina_symbol_table:\n", n
		for (i = 0; i < n; i++) printf "\t.quad 0x%s, .Lname%d\n", addr[i], i
		for (i = 0; i < n; i++) printf ".Lname%d: .asciz \"%s\"\n", i, name[i]
	}'
