/* CR0, CR4 and EFER of the guest. VMX operation fixes a few CR0/CR4
 * bits (CR0.NE and CR4.VMXE from the FIXED0 MSRs; with unrestricted
 * guest, PE and PG stay free). lamina owns those bits through the
 * guest/host masks: they stay set underneath, the guest reads them from
 * the read shadows as it wrote them, and a MOV to CR0/CR4 that would
 * change one exits here to be checked and carried out as the CPU would.
 * Those are rare: Linux sets CR0.NE once per CPU; CR4.VMXE is never the
 * guest's to set, since VMX is hidden from it (#GP, as on a CPU without
 * VMX). */
#include <core/format.h>
#include <core/guest_mem.h>
#include <core/mm.h>
#include <core/string.h>
#include <x86/cpu.h>
#include "vmx.h"

#define CR4_PCIDE_CR3_BITS 0xfffull
#define CR_ACCESS_MOV_TO 0

void vmx_load_cr0(struct vmx_vcpu *x, u64 val)
{
	x->cr0_shadow = val;
	vmwrite(VMCS_CR0_SHADOW, val);
	vmwrite(VMCS_GUEST_CR0, (val | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1);
}

void vmx_load_cr4(struct vmx_vcpu *x, u64 val)
{
	x->cr4_shadow = val;
	vmwrite(VMCS_CR4_SHADOW, val);
	vmwrite(VMCS_GUEST_CR4, (val | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1);
}

u64 vmx_guest_cr0(struct vmx_vcpu *x)
{
	u64 owned = vmx_caps.cr0_owned;

	return (vmread(VMCS_GUEST_CR0) & ~owned) | (x->cr0_shadow & owned);
}

u64 vmx_guest_cr4(struct vmx_vcpu *x)
{
	u64 owned = vmx_caps.cr4_owned;

	return (vmread(VMCS_GUEST_CR4) & ~owned) | (x->cr4_shadow & owned);
}

/* VM entry requires "IA-32e mode guest" to match EFER.LMA. */
void vmx_load_efer(u64 efer)
{
	vmwrite(VMCS_GUEST_EFER, efer);
	vmwrite(VMCS_ENTRY_CTLS, vmx_caps.entry | ((efer & EFER_LMA) ? ENTRY_IA32E_GUEST : 0));
}

/* PAE paging outside long mode: with EPT, VM entry takes the four
 * PDPTEs from the VMCS, so an emulated MOV to CR0 or CR4 that would load
 * them (see commit), or a task switch's CR3, loads them there, with the
 * checks MOV to CR does. */
int vmx_load_pdptes(u64 cr3)
{
	u64 pa = cr3 & 0xffffffe0ull, pdpte[4];
	u64 reserved = guest_pae_pdpte_reserved();

	if (!guest_ram_ok(pa, sizeof(pdpte)))
		return -1;
	memcpy(pdpte, phys_to_virt(pa), sizeof(pdpte));
	for (unsigned int i = 0; i < 4; i++)
		if ((pdpte[i] & 1) && (pdpte[i] & reserved))
			return -1;
	for (unsigned int i = 0; i < 4; i++)
		vmwrite(VMCS_GUEST_PDPTE(i), pdpte[i]);
	return 0;
}

/* The PDPTE registers the guest's PAE paging uses: with EPT a VM exit
 * saves them in the VMCS (SDM 28.3.4), where entry takes them from. */
bool vmx_pae_pdpte(struct vcpu *v, unsigned int i, u64 *pdpte)
{
	*pdpte = vmread(VMCS_GUEST_PDPTE(i));
	return true;
}

/* A MOV to CR0 or CR4 loads the PDPTEs when PAE paging is in use after
 * it and it changes one of these bits (SDM vol. 3, 4.4.1); any other
 * keeps the ones the CPU has, whatever the table in memory says now. */
#define CR0_PDPTE_BITS (CR0_PG | CR0_CD | CR0_NW)
#define CR4_PDPTE_BITS (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)

static int commit(struct vcpu *v, u64 cr0, u64 cr4, u64 efer)
{
	struct vmx_vcpu *x = v->vendor;
	bool pae = (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA);
	bool reload = ((cr0 ^ vmx_guest_cr0(x)) & CR0_PDPTE_BITS) ||
		      ((cr4 ^ vmx_guest_cr4(x)) & CR4_PDPTE_BITS);

	if (pae && reload && vmx_load_pdptes(vmread(VMCS_GUEST_CR3)))
		return -1;
	vmx_load_cr0(x, cr0);
	vmx_load_cr4(x, cr4);
	if (efer != vmread(VMCS_GUEST_EFER))
		vmx_load_efer(efer);
	/* The CPU would flush the TLB for paging changes; we wrote underneath. */
	vpid_flush(v);
	return 0;
}

/* MOV to CR0 with its architectural #GP checks; turning paging on or off
 * with EFER.LME set enters or leaves long mode. */
static int mov_to_cr0(struct vcpu *v, u64 val)
{
	struct vmx_vcpu *x = v->vendor;
	u64 old = vmx_guest_cr0(x), cr4 = vmx_guest_cr4(x);
	u64 efer = vmread(VMCS_GUEST_EFER);
	struct segment cs;

	val |= CR0_ET; /* hardwired to 1 */
	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD)) || (!(val & CR0_PG) && (cr4 & CR4_PCIDE)) ||
	    (!(val & CR0_WP) && (cr4 & CR4_CET)))
		return -1;
	vmx_get_seg(v, X86_CS, &cs);
	if (!(old & CR0_PG) && (val & CR0_PG) && (efer & EFER_LME)) {
		if (!(cr4 & CR4_PAE) || (cs.attr & SEG_ATTR_L))
			return -1;
		efer |= EFER_LMA;
	} else if ((old & CR0_PG) && !(val & CR0_PG) && (efer & EFER_LMA)) {
		if (cs.attr & SEG_ATTR_L)
			return -1;
		efer &= ~EFER_LMA;
	}
	return commit(v, val, cr4, efer);
}

static int mov_to_cr4(struct vcpu *v, u64 val)
{
	struct vmx_vcpu *x = v->vendor;
	u64 old = vmx_guest_cr4(x), efer = vmread(VMCS_GUEST_EFER);
	bool lma = efer & EFER_LMA;

	/* Bits this CPU lacks, and VMXE and SMXE: VMX and SMX are hidden. */
	if (val & ~(vmx_caps.cr4_fixed1 & ~(u64)(CR4_VMXE | CR4_SMXE)))
		return -1;
	if (lma && (!(val & CR4_PAE) || ((val ^ old) & CR4_LA57)))
		return -1;
	if ((val & CR4_PCIDE) && !(old & CR4_PCIDE) &&
	    (!lma || (vmread(VMCS_GUEST_CR3) & CR4_PCIDE_CR3_BITS)))
		return -1;
	if ((val & CR4_CET) && !(vmx_guest_cr0(x) & CR0_WP))
		return -1;
	return commit(v, vmx_guest_cr0(x), val, efer);
}

/* Exit qualification: CR number in bits 0-3, access type in 4-5 (only
 * MOV to CR exits: the masks own no bit LMSW or CLTS can change, and
 * neither CR3 nor CR8 accesses exit), the register in 8-11. */
void vmx_cr_access(struct vcpu *v)
{
	u64 q = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned int cr = q & 15, type = (q >> 4) & 3;
	u64 val = v->gpr[(q >> 8) & 15];
	int err;

	if (type != CR_ACCESS_MOV_TO || (cr != 0 && cr != 4)) {
		char why[96];
		format(why, sizeof(why), "unexpected VT-x CR access exit (qualification %#llx)",
		       (unsigned long long)q);
		guest_stop(v, why);
	}
	if (vcpu_mode(v) != X86_MODE_64)
		val = (u32)val;
	err = cr == 0 ? mov_to_cr0(v, val) : mov_to_cr4(v, val);
	if (err)
		vcpu_inject_gp(v, 0);
	else
		vcpu_skip_insn(v);
}
