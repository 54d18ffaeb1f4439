#!/bin/sh
# check-image.sh ELF: the properties the boot loaders rely on.
#  - every loadable segment sits at file offset (physical address - LOAD_PHYS),
#    so the file is also the flat image the Multiboot1 a.out kludge describes;
#  - the Multiboot1 header lies in the first 8 KiB, the Multiboot2 one in
#    the first 32 KiB;
#  - everything is loaded below 4 GiB.
set -e
elf=$1
load_phys=$((0x100000))
n=0
for seg in $(readelf -lW "$elf" | awk '$1 == "LOAD" { print $2 "," $4 "," $6 }'); do
	off=$(( $(echo "$seg" | cut -d, -f1) ))
	paddr=$(( $(echo "$seg" | cut -d, -f2) ))
	memsz=$(( $(echo "$seg" | cut -d, -f3) ))
	if [ $off -ne $((paddr - load_phys)) ]; then
		printf '%s: segment at paddr %#x has file offset %#x, want %#x\n' \
			"$elf" $paddr $off $((paddr - load_phys))
		exit 1
	fi
	[ $((paddr + memsz)) -le 4294967296 ] || { echo "$elf: segment above 4 GiB"; exit 1; }
	n=$((n + 1))
done
[ $n -gt 0 ] || { echo "$elf: no loadable segments"; exit 1; }
mb1=$(od -A d -t x4 -N 8192 -v -w4 "$elf" | awk '$2 == "1badb002" { print $1 + 0; exit }')
mb2=$(od -A d -t x4 -N 32768 -v -w4 "$elf" | awk '$2 == "e85250d6" { print $1 + 0; exit }')
[ -n "$mb1" ] || { echo "$elf: no Multiboot1 header in the first 8 KiB"; exit 1; }
[ -n "$mb2" ] || { echo "$elf: no Multiboot2 header in the first 32 KiB"; exit 1; }
[ $((mb2 % 8)) -eq 0 ] || { echo "$elf: Multiboot2 header not 8-byte aligned"; exit 1; }
exit 0
