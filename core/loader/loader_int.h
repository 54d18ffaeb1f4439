/* Shared by the guest loaders (private to core/loader). */
#ifndef CORE_LOADER_INT_H
#define CORE_LOADER_INT_H

#include <core/loader.h>

/* The most ELF segments a Multiboot kernel may have. */
#define LOADER_MAX_SEGMENTS 16

/* Enough claims for the worst case: every module where the boot loader
 * put it, every ELF segment, every module moved out of a segment's way,
 * the staged kernel file and the boot data (Linux needs fewer), with room
 * to spare. */
#define LOADER_MAX_USED (2 * BOOT_MAX_MODULES + LOADER_MAX_SEGMENTS + 8)

/* Guest memory the loaders have claimed, so later placements avoid it.
 * loader_prepare claims module i first, as used[i]. */
struct placement {
	struct mem_range used[LOADER_MAX_USED + 1]; /* + place_alloc's first MiB */
	unsigned int n;
	char why[160]; /* set when a claim found the table full */
};

/* Notes [base, base + size) as taken; -1 (and why says so, naming what)
 * if the table is full. */
int place_claim(struct placement *p, u64 base, u64 size, const char *what);
bool place_overlaps(const struct placement *p, u64 base, u64 size);
/* The highest free, usable guest range of size below limit; claims it
 * for what. -1 if there is none or the table is full. */
int place_alloc(struct placement *p, u64 size, u64 align, u64 limit, u64 *base,
		const char *what);
/* The same search, without the claim. */
int place_find(struct placement *p, u64 size, u64 align, u64 limit, u64 *base);
/* Why a place_claim or place_alloc failed: no_room, unless the table was
 * full. */
const char *place_why(const struct placement *p, const char *no_room);
/* Lets later placements use module i's memory (its content is used up or
 * moved first), or keeps them off it again. */
void place_release_module(struct placement *p, unsigned int i);
void place_keep_module(struct placement *p, unsigned int i);
/* A region of guest RAM lamina may fill. */
bool place_fits_ram(u64 base, u64 size);

/* The boot GDT every 32-bit entry uses: 0x10 flat code, 0x18 flat data. */
#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define BOOT_GDT_SIZE 32
void write_boot_gdt(u64 gpa, struct vcpu_reset *r);

const char *linux_prepare(const struct boot_module *kernel, const struct boot_module *initrd,
			  struct placement *p, struct guest_entry *out);
const char *multiboot_prepare(unsigned int first, struct placement *p,
			      struct guest_entry *out);
bool linux_detect(const struct boot_module *m);
bool multiboot_detect(const struct boot_module *m);

#endif
