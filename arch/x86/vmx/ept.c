/* The EPT entry format for the shared page-table builder, and flushing
 * what the CPU cached of the EPT (INVEPT) and of the guest's own page
 * tables (INVVPID). Leaves carry the memory type the MTRRs give the range
 * (the host MTRRs do not apply under EPT), with "ignore PAT" clear so
 * the guest's PAT still combines with it as on bare hardware. */
#include <x86/cpu.h>
#include "vmx.h"

#define EPT_R BIT(0)
#define EPT_W BIT(1)
#define EPT_X BIT(2)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_LARGE BIT(7)
#define EPT_ADDR_MASK 0x000ffffffffff000ull

#define INVEPT_SINGLE 1
#define INVEPT_ALL 2
#define INVVPID_SINGLE 1
#define INVVPID_ALL 2

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

struct inv_desc {
	u64 a, b;
};

static void invept(u64 type, u64 eptp)
{
	struct inv_desc d = { eptp, 0 };

	__asm__ volatile("invept %0, %1" ::"m"(d), "r"(type) : "cc", "memory");
}

static void invvpid(u64 type, u16 vpid)
{
	struct inv_desc d = { vpid, 0 };

	__asm__ volatile("invvpid %0, %1" ::"m"(d), "r"(type) : "cc", "memory");
}

/* After lamina changed the EPT: the guest-physical and combined mappings
 * of this vCPU's EPT, on this CPU. */
void ept_flush(struct vcpu *v)
{
	struct vmx_vcpu *x = v->vendor;

	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE, x->eptp);
	else
		invept(INVEPT_ALL, 0);
}

/* What the guest's own page tables left in the TLB (its VPID), as a
 * reset or a paging change lamina emulated would flush it. Without VPID
 * every VM entry and exit flushes already. */
void vpid_flush(struct vcpu *v)
{
	struct vmx_vcpu *x = v->vendor;

	if (!(vmx_caps.proc2 & PROC2_VPID))
		return;
	if (vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE)
		invvpid(INVVPID_SINGLE, x->vpid);
	else
		invvpid(INVVPID_ALL, 0);
}
