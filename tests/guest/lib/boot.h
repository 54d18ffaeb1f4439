/* What the loader (a boot loader, or lamina) handed over: the Multiboot1
 * information, copied at start so that later tests may reuse low memory,
 * the command-line options, and the machine state at entry. */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include <core/types.h>

#define MB_LOADER_MAGIC 0x2badb002u
#define MB_INFO_MEM BIT(0)
#define MB_INFO_CMDLINE BIT(2)
#define MB_INFO_MODS BIT(3)
#define MB_INFO_MMAP BIT(6)

#define MMAP_AVAILABLE 1
#define MMAP_RESERVED 2

#define BOOT_MAX_MMAP 64
#define BOOT_MAX_MODS 8
#define BOOT_MAX_OPTS 16

struct mmap_range {
	u64 base, len;
	u32 type;
};

struct boot_module {
	u32 start, end;
	char cmdline[128];
};

struct boot_info {
	u32 flags;
	u32 mem_lower, mem_upper; /* KiB */
	char cmdline[512];
	u32 n_mmap;
	struct mmap_range mmap[BOOT_MAX_MMAP];
	u32 n_mods;
	struct boot_module mods[BOOT_MAX_MODS];
	u32 n_opts;
	const char *opts[BOOT_MAX_OPTS]; /* words of cmdline that are options */
};

extern struct boot_info boot;
/* Machine state at entry, saved by entry.S. */
extern u32 boot_magic, boot_mbi, boot_cr0, boot_cr4, boot_eflags;

void boot_init(void);
/* Value of option key ("key=value": "value"; "key": ""), NULL if absent. */
const char *boot_opt(const char *key);
/* The option as a number, or dflt when absent (a bad number fails a check). */
u64 boot_opt_num(const char *key, u64 dflt);
/* Whether [base, base+len) is wholly covered by map entries of `type`,
 * or overlaps any of them. */
bool mmap_covered(u64 base, u64 len, u32 type);
bool mmap_overlaps(u64 base, u64 len, u32 type);

#endif
