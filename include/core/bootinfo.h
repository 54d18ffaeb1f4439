/* What the boot loader told lamina, copied into lamina's own memory before
 * anything can overwrite it. */
#ifndef CORE_BOOTINFO_H
#define CORE_BOOTINFO_H

#include <core/memmap.h>

#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 2048

struct boot_module {
	u64 start, end;                /* physical, end exclusive */
	char cmdline[BOOT_CMDLINE_MAX];
	bool cmdline_cut;              /* longer than BOOT_CMDLINE_MAX - 1 */
};

struct boot_info {
	int protocol;                  /* 1 or 2: Multiboot version */
	char cmdline[BOOT_CMDLINE_MAX];
	bool cmdline_cut;              /* longer than BOOT_CMDLINE_MAX - 1 */
	char loader[64];
	struct memmap fw_map;          /* the loader's memory map, sanitized */
	unsigned int nmods;
	struct boot_module mods[BOOT_MAX_MODULES];
	u32 mods_dropped;              /* past BOOT_MAX_MODULES */
	u32 mods_bad;                  /* ending where or before they start */
	u8 rsdp[36];                   /* copy of the ACPI RSDP, if the loader gave one */
	bool has_rsdp;
	u64 info_base, info_size;      /* the loader's info block */
};

extern struct boot_info boot_info;

/* Fill boot_info from the loader's data; returns a message on failure. */
const char *bootinfo_parse(u32 magic, u64 info_pa, struct boot_info *bi);

#endif
