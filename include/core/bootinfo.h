/* What the boot loader told lamina, copied into lamina's own memory before
 * anything can overwrite it. */
#ifndef CORE_BOOTINFO_H
#define CORE_BOOTINFO_H

#include <core/memmap.h>

#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 2048

/* As the loader gave it: empty when end == start (an empty file), and
 * malformed when end < start (the guest is then not started). */
struct boot_module {
	u64 start, end;                /* physical, end exclusive */
	char cmdline[BOOT_CMDLINE_MAX];
	bool cmdline_cut;              /* longer than BOOT_CMDLINE_MAX - 1 */
};

/* The bytes a module holds: none if it is malformed. */
static inline u64 boot_module_size(const struct boot_module *m)
{
	return m->end > m->start ? m->end - m->start : 0;
}

struct boot_info {
	int protocol;                  /* 1 or 2: Multiboot version */
	char cmdline[BOOT_CMDLINE_MAX];
	bool cmdline_cut;              /* longer than BOOT_CMDLINE_MAX - 1 */
	char loader[64];
	struct memmap fw_map;          /* the loader's memory map, sanitized */
	u32 fw_map_unread;             /* its entries past MEMMAP_RAW_MAX */
	u32 fw_map_left_out;           /* its ranges past MEMMAP_MAX (usable first, from the top) */
	unsigned int nmods;
	struct boot_module mods[BOOT_MAX_MODULES];
	u32 mods_dropped;              /* past BOOT_MAX_MODULES (the guest is then not started) */
	const char *mods_unusable;     /* why the loader's module list could not be read, or NULL */
	u8 rsdp[36];                   /* copy of the ACPI RSDP, if the loader gave one */
	bool has_rsdp;
	u64 info_base, info_size;      /* the loader's info block */
	u64 image_base, image_end;     /* lamina's image as the loader loaded it */
};

extern struct boot_info boot_info;

/* Fill boot_info from the loader's data; returns a message on failure. */
const char *bootinfo_parse(u32 magic, u64 info_pa, struct boot_info *bi);

#endif
