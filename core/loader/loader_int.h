/* Shared by the guest loaders (private to core/loader). */
#ifndef CORE_LOADER_INT_H
#define CORE_LOADER_INT_H

#include <core/loader.h>

#define LOADER_MAX_USED (BOOT_MAX_MODULES + 16)

/* Guest memory the loaders have claimed, so later placements avoid it. */
struct placement {
	struct mem_range used[LOADER_MAX_USED];
	unsigned int n;
};

void place_claim(struct placement *p, u64 base, u64 size);
bool place_overlaps(const struct placement *p, u64 base, u64 size);
/* The highest free, usable guest range of size below limit; claims it. */
int place_alloc(struct placement *p, u64 size, u64 align, u64 limit, u64 *base);
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
