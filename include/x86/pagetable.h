/* One builder for every 4-level x86 page table lamina makes: its own
 * address space, AMD nested page tables and Intel EPT. A format turns
 * generic attributes into entries; the builder picks the largest page
 * that alignment, the requested range and the format allow, and splits
 * large pages when part of one changes. */
#ifndef X86_PAGETABLE_H
#define X86_PAGETABLE_H

#include <core/types.h>

/* Generic attributes. No PT_R means not present. */
#define PT_R BIT(0)
#define PT_W BIT(1)
#define PT_X BIT(2)
#define PT_USER BIT(3)
#define PT_GLOBAL BIT(4)
#define PT_MEMTYPE_SHIFT 8
#define PT_MEMTYPE(t) ((u64)(t) << PT_MEMTYPE_SHIFT) /* MTRR encoding */
#define PT_MEMTYPE_OF(a) (((a) >> PT_MEMTYPE_SHIFT) & 7)
#define PT_RWX (PT_R | PT_W | PT_X)

/* x86 memory types (MTRR/PAT/EPT encoding). */
#define MT_UC 0
#define MT_WC 1
#define MT_WT 4
#define MT_WP 5
#define MT_WB 6

#define PT_LEVELS 4
#define PT_LEVEL_SHIFT(l) (PAGE_SHIFT + 9 * ((l) - 1)) /* level 1 = 4 KiB */
#define PT_LEVEL_SIZE(l) (1ull << PT_LEVEL_SHIFT(l))

struct pt_format {
	u64 (*table)(u64 table_pa);                       /* non-leaf entry */
	u64 (*leaf)(u64 pa, unsigned int level, u64 attr); /* 0 when absent */
	u64 (*leaf_attr)(u64 entry, unsigned int level);   /* inverse of leaf */
	bool (*present)(u64 entry);
	bool (*is_leaf)(u64 entry, unsigned int level);   /* large page or level 1 */
	u64 addr_mask;                                    /* bits holding the address */
	unsigned int max_leaf_level;                      /* 3 with 1 GiB pages, else 2 */
};

struct pt_ctx {
	const struct pt_format *fmt;
	u64 root_pa;
	/* A zeroed 4 KiB table: returns its address for lamina, *pa physical. */
	void *(*alloc_table)(void *arg, u64 *pa);
	void *(*table_va)(void *arg, u64 pa);
	void *arg;
	unsigned long tables; /* tables allocated so far */
};

/* Create an empty root. 0 or -1 (out of memory). */
int pt_init(struct pt_ctx *c);

/* Map [va, va + size) to [pa, pa + size) with attr (PT_R clear: absent).
 * va, pa and size must be 4 KiB aligned. Existing mappings are replaced;
 * a large page partly covered is split first. 0, or -1 out of memory. */
int pt_map(struct pt_ctx *c, u64 va, u64 pa, u64 size, u64 attr);

/* Look up va: returns the leaf's level (0 if unmapped), its entry and the
 * physical address va maps to. */
unsigned int pt_lookup(struct pt_ctx *c, u64 va, u64 *entry, u64 *pa);

/* Count leaves by level (counts[1..3]) in [va, va + size); for tests and
 * the boot report. */
void pt_count_leaves(struct pt_ctx *c, u64 va, u64 size, unsigned long counts[4]);

#endif
