/* Flushing what the CPU cached of the EPT (INVEPT: guest-physical and
 * combined mappings) and of the guest's own page tables (INVVPID). */
#include "vmx.h"

#define INVEPT_SINGLE 1
#define INVEPT_ALL 2
#define INVVPID_SINGLE 1
#define INVVPID_ALL 2

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
