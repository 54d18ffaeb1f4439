/* The guest-physical identity map behind NPT and EPT: everything from 0
 * up to a limit maps to itself, except hidden ranges (lamina's home),
 * which are absent. Each piece gets the memory type its MTRRs give it,
 * and the largest pages that cross no hole and no type boundary. */
#ifndef X86_NESTED_MAP_H
#define X86_NESTED_MAP_H

#include <core/memmap.h>
#include <x86/mtrr.h>
#include <x86/pagetable.h>

struct nested_map_desc {
	u64 limit;                      /* map [0, limit) */
	const struct mem_range *holes;  /* absent ranges, 4 KiB aligned */
	unsigned int nholes;
	const struct mtrr_state *mtrr;  /* memory types */
	u64 attr;                       /* permissions of mapped pages (PT_RWX | PT_USER ...) */
};

/* Fill an initialized, empty table. 0, or -1 when out of memory. */
int nested_map_build(struct pt_ctx *c, const struct nested_map_desc *d);

/* The table pages nested_map_build takes at most for d with leaves up to
 * max_leaf_level (2: 2 MiB, 3: 1 GiB): the root, a PDPT per 512 GiB, a
 * PD per GiB without 1 GiB leaves, and the tables that split a large
 * page where a hole or memory type begins or ends inside it. */
unsigned long nested_map_tables(const struct nested_map_desc *d, unsigned int max_leaf_level);

/* How far a map like d (d->limit: all that could be mapped, a multiple of
 * 1 GiB) can reach with at most budget table pages: d->limit when it
 * fits; else the highest multiple of 1 GiB that fits, which is never
 * below known (rounded up to 1 GiB); 0 when not even that fits. */
u64 nested_map_limit(const struct nested_map_desc *d, u64 known, unsigned long budget,
		     unsigned int max_leaf_level);

/* Change the permissions of [pa, pa + size) (PT_R clear: absent), keeping
 * the MTRR type; splits large pages only around the range. */
int nested_map_protect(struct pt_ctx *c, const struct nested_map_desc *d,
		       u64 pa, u64 size, u64 attr);

#endif
