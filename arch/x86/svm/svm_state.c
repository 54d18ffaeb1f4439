/* Guest segment and control-register loads for generic code (the VMCB
 * keeps segments in struct segment's own layout). AMD-V runs hardware
 * task switches itself; these complete the vendor interface. */
#include <x86/cpu.h>
#include "svm.h"

static struct vmcb_save *save_of(struct vcpu *v)
{
	return &((struct svm_vcpu *)v->vendor)->vmcb->save;
}

static struct vmcb_seg *sys_seg(struct vmcb_save *g, enum guest_sys_seg s)
{
	struct vmcb_seg *segs[] = { &g->ldtr, &g->tr, &g->gdtr, &g->idtr };

	return segs[s];
}

void svm_set_seg(struct vcpu *v, enum x86_seg seg, const struct segment *in)
{
	struct vmcb_save *g = save_of(v);
	struct vmcb_seg *segs[] = { &g->es, &g->cs, &g->ss, &g->ds, &g->fs, &g->gs };

	*segs[seg] = (struct vmcb_seg){ .sel = in->sel, .attr = in->attr,
					.limit = in->limit, .base = in->base };
	if (seg == X86_SS)
		g->cpl = (u8)SEG_ATTR_DPL(in->attr);
}

void svm_get_sys_seg(struct vcpu *v, enum guest_sys_seg s, struct segment *out)
{
	const struct vmcb_seg *r = sys_seg(save_of(v), s);

	*out = (struct segment){ .sel = r->sel, .attr = r->attr, .limit = r->limit,
				 .base = r->base };
}

void svm_set_sys_seg(struct vcpu *v, enum guest_sys_seg s, const struct segment *in)
{
	*sys_seg(save_of(v), s) = (struct vmcb_seg){ .sel = in->sel, .attr = in->attr,
						     .limit = in->limit, .base = in->base };
}

/* No PDPTEs to load: with nested paging the CPU reads them at use. The
 * guest's TLB entries go with a full flush (QEMU has no flush-by-ASID). */
int svm_set_cr(struct vcpu *v, enum guest_reg r, u64 val)
{
	struct vmcb_save *g = save_of(v);

	if (r == GUEST_CR0) {
		if ((val ^ g->cr0) & (CR0_PE | CR0_PG | CR0_NE | CR0_WP | CR0_CD | CR0_NW))
			return -1;
		g->cr0 = val;
		return 0;
	}
	if (r == GUEST_DR7) {
		g->dr7 = val;
		return 0;
	}
	if (r != GUEST_CR3)
		return -1;
	g->cr3 = val;
	((struct svm_vcpu *)v->vendor)->vmcb->ctl.tlb_control = 1;
	return 0;
}
