/* lamina's own address space: the image in the top 2 GiB, all physical
 * memory at DIRECT_MAP_BASE, device registers uncached at IO_MAP_BASE. */
#ifndef X86_PAGING_H
#define X86_PAGING_H

#include <x86/pagetable.h>

/* x86 page-table entry bits. */
#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_G BIT(8)
#define PTE_NX BIT(63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

/* Entry constructors shared by lamina's tables and AMD nested tables. */
u64 x86_pte_table(u64 pa);
u64 x86_pte_leaf(u64 pa, unsigned int level, u64 attr);
u64 x86_pte_leaf_attr(u64 e, unsigned int level);
bool x86_pte_present(u64 e);
bool x86_pte_is_leaf(u64 e, unsigned int level);

/* Page-table pages from lamina's allocator, for struct pt_ctx. */
void *pt_page_alloc(void *arg, u64 *pa);
void *pt_page_va(void *arg, u64 pa);

/* Boot: make [pa, pa + size) reachable through the boot direct map. */
void paging_early_map(u64 pa, u64 size);
/* The largest range paging_early_map can map on a CPU without 1 GiB pages. */
#define EARLY_MAP_MAX_NO_1G (4 * GiB)

/* Build lamina's final tables (image at home.base, direct map up to
 * dm_top) and return the root's physical address. */
u64 paging_build_host(u64 dm_top);
/* Whether [pa, pa + size) lies in the direct map (after paging_build_host). */
bool paging_in_direct_map(u64 pa, u64 size);

/* Copy the image to its home and switch to the final tables. */
void paging_relocate(u64 cr3);

/* Map device registers uncached; returns lamina's address for pa. */
void *io_map(u64 pa, u64 size);

/* The physical address of lamina's final top-level table. */
extern u64 host_cr3;

#endif
