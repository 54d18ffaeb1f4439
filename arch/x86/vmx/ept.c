/* The EPT entry format for the shared page-table builder. Leaves carry
 * the memory type the MTRRs give the range (the host MTRRs do not apply
 * under EPT), with "ignore PAT" clear so the guest's PAT still combines
 * with it as on bare hardware. Pure: unit-tested on the host
 * (tests/unit/test_ept.c). */
#include "ept.h"

#define EPT_R BIT(0)
#define EPT_W BIT(1)
#define EPT_X BIT(2)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_LARGE BIT(7)
#define EPT_ADDR_MASK 0x000ffffffffff000ull

static u64 ept_table(u64 pa)
{
	return pa | EPT_R | EPT_W | EPT_X;
}

static u64 ept_leaf(u64 pa, unsigned int level, u64 attr)
{
	if (!(attr & PT_R))
		return 0;
	return pa | EPT_R | ((attr & PT_W) ? EPT_W : 0) | ((attr & PT_X) ? EPT_X : 0) |
	       ((u64)PT_MEMTYPE_OF(attr) << EPT_MEMTYPE_SHIFT) | (level > 1 ? EPT_LARGE : 0);
}

static u64 ept_leaf_attr(u64 e, unsigned int level)
{
	if (!(e & EPT_R))
		return 0;
	return PT_R | ((e & EPT_W) ? PT_W : 0) | ((e & EPT_X) ? PT_X : 0) |
	       PT_MEMTYPE((e >> EPT_MEMTYPE_SHIFT) & 7);
}

static bool ept_present(u64 e)
{
	return e & (EPT_R | EPT_W | EPT_X);
}

static bool ept_is_leaf(u64 e, unsigned int level)
{
	return level == 1 || (e & EPT_LARGE);
}

struct pt_format ept_format = {
	.table = ept_table,
	.leaf = ept_leaf,
	.leaf_attr = ept_leaf_attr,
	.present = ept_present,
	.is_leaf = ept_is_leaf,
	.addr_mask = EPT_ADDR_MASK,
	.max_leaf_level = 2, /* vmx_read_caps sets what the CPU has */
};
