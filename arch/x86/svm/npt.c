/* AMD nested page tables use the ordinary x86-64 format; every level
 * needs U/S set because nested walks are user accesses. The memory type
 * stays write-back (PAT index 0): the host MTRRs still apply under NPT. */
#include <x86/paging.h>
#include "svm.h"

static u64 npt_leaf(u64 pa, unsigned int level, u64 attr)
{
	return x86_pte_leaf(pa, level,
			    ((attr | PT_USER) & ~PT_MEMTYPE(7)) | PT_MEMTYPE(MT_WB));
}

static u64 npt_leaf_attr(u64 e, unsigned int level)
{
	return x86_pte_leaf_attr(e, level);
}

struct pt_format npt_format = {
	.table = x86_pte_table,
	.leaf = npt_leaf,
	.leaf_attr = npt_leaf_attr,
	.present = x86_pte_present,
	.is_leaf = x86_pte_is_leaf,
	.addr_mask = PTE_ADDR_MASK,
	.max_leaf_level = 2, /* 3 where the CPU has 1 GiB pages (svm_check) */
};
