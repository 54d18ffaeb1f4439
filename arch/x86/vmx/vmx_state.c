/* The guest's registers and segments as generic code sees them. */
#include <x86/cpu.h>
#include "vmx.h"

/* struct segment keeps attributes in the AMD layout (descriptor bits
 * 40-47 in 0-7, 52-55 in 8-11); VMX access rights hold the same bits
 * with the upper nibble at 12-15, and an "unusable" bit for a null
 * selector loaded in protected mode, which reads as not present. */
static u16 attr_of_ar(u32 ar)
{
	if (ar & VMX_AR_UNUSABLE)
		return 0;
	return (u16)((ar & 0xff) | ((ar >> 4) & 0xf00));
}

static u32 ar_of_attr(u16 attr)
{
	if (!(attr & SEG_ATTR_P))
		return VMX_AR_UNUSABLE;
	return (attr & 0xff) | ((u32)(attr & 0xf00) << 4);
}

void vmx_set_seg(unsigned int i, u16 sel, u64 base, u32 limit, u16 attr)
{
	vmwrite(VMCS_GUEST_SEL(i), sel);
	vmwrite(VMCS_GUEST_BASE(i), base);
	vmwrite(VMCS_GUEST_LIMIT(i), limit);
	vmwrite(VMCS_GUEST_AR(i), ar_of_attr(attr));
}

void vmx_get_seg(struct vcpu *v, enum x86_seg seg, struct segment *out)
{
	*out = (struct segment){
		.sel = (u16)vmread(VMCS_GUEST_SEL(seg)),
		.attr = attr_of_ar((u32)vmread(VMCS_GUEST_AR(seg))),
		.limit = (u32)vmread(VMCS_GUEST_LIMIT(seg)),
		.base = vmread(VMCS_GUEST_BASE(seg)),
	};
}

void vmx_load_seg(struct vcpu *v, enum x86_seg seg, const struct segment *in)
{
	vmx_set_seg(seg, in->sel, in->base, in->limit, in->attr);
}

/* VMCS segment indices after the six of enum x86_seg. */
#define VMCS_SEG_LDTR 6
#define VMCS_SEG_TR 7

void vmx_get_sys_seg(struct vcpu *v, enum guest_sys_seg s, struct segment *out)
{
	if (s == GUEST_GDTR || s == GUEST_IDTR) {
		bool gdt = s == GUEST_GDTR;
		*out = (struct segment){
			.limit = (u32)vmread(gdt ? VMCS_GUEST_GDTR_LIMIT : VMCS_GUEST_IDTR_LIMIT),
			.base = vmread(gdt ? VMCS_GUEST_GDTR_BASE : VMCS_GUEST_IDTR_BASE),
		};
		return;
	}
	vmx_get_seg(v, (enum x86_seg)(s == GUEST_TR ? VMCS_SEG_TR : VMCS_SEG_LDTR), out);
}

void vmx_set_sys_seg(struct vcpu *v, enum guest_sys_seg s, const struct segment *in)
{
	if (s == GUEST_GDTR || s == GUEST_IDTR) {
		bool gdt = s == GUEST_GDTR;
		vmwrite(gdt ? VMCS_GUEST_GDTR_LIMIT : VMCS_GUEST_IDTR_LIMIT, in->limit);
		vmwrite(gdt ? VMCS_GUEST_GDTR_BASE : VMCS_GUEST_IDTR_BASE, in->base);
		return;
	}
	vmx_set_seg(s == GUEST_TR ? VMCS_SEG_TR : VMCS_SEG_LDTR, in->sel, in->base,
		    in->limit, in->attr);
}

/* CR0 bits no paging mode depends on, and CR3 with the PAE PDPTEs the
 * VMCS holds under EPT; the TLB of the old CR3 goes as on the CPU. */
int vmx_set_cr(struct vcpu *v, enum guest_reg r, u64 val)
{
	struct vmx_vcpu *x = v->vendor;
	u64 cr0 = vmx_guest_cr0(x);

	if (r == GUEST_CR0) {
		if ((val ^ cr0) & (CR0_PE | CR0_PG | CR0_NE | CR0_WP | CR0_CD | CR0_NW))
			return -1;
		vmx_load_cr0(x, val);
		return 0;
	}
	if (r == GUEST_DR7) {
		vmwrite(VMCS_GUEST_DR7, val);
		return 0;
	}
	if (r != GUEST_CR3)
		return -1;
	if ((cr0 & CR0_PG) && (vmx_guest_cr4(x) & CR4_PAE) &&
	    !(vmread(VMCS_GUEST_EFER) & EFER_LMA) && vmx_load_pdptes(val))
		return -1;
	vmwrite(VMCS_GUEST_CR3, val);
	vpid_flush(v);
	return 0;
}

/* The CPL is SS.DPL in VMX guest state (0 in real mode, 3 in v8086). */
unsigned int vmx_cpl(struct vcpu *v)
{
	return (vmread(VMCS_GUEST_AR(X86_SS)) >> 5) & 3;
}

u64 vmx_get_reg(struct vcpu *v, enum guest_reg r)
{
	struct vmx_vcpu *x = v->vendor;

	switch (r) {
	case GUEST_CR0: return vmx_guest_cr0(x);
	case GUEST_CR2: return read_cr2();
	case GUEST_CR3: return vmread(VMCS_GUEST_CR3);
	case GUEST_CR4: return vmx_guest_cr4(x);
	case GUEST_EFER: return vmread(VMCS_GUEST_EFER);
	case GUEST_DEBUGCTL: return vmread(VMCS_GUEST_DEBUGCTL);
	case GUEST_DR7: return vmread(VMCS_GUEST_DR7);
	}
	return 0;
}

void vmx_set_efer(struct vcpu *v, u64 efer)
{
	vmx_load_efer(efer);
}

/* CR2 is not in the VMCS: the guest's value stays in the register while
 * lamina runs (lamina itself never takes a page fault it survives), and
 * lamina runs on the vCPU's own CPU. */
void vmx_set_cr2(struct vcpu *v, u64 cr2)
{
	write_cr2(cr2);
}
