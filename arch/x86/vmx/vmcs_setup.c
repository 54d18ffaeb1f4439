/* A vCPU's VMCS, set up in the order of the SDM's description of it:
 * VM-execution, VM-exit and VM-entry controls, then the host state (what
 * a VM exit loads: lamina on this CPU), then the guest state (what the
 * guest starts from; the registers come with vmx_reset). */
#include <core/mm.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>
#include "vmx.h"

#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define EPTP_WALK4 (3ull << 3)
#define POWER_ON_PAT 0x0007040600070406ull
#define DR7_INIT 0x400
#define RFLAGS_FIXED 0x2

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

static void setup_exec_controls(struct vmx_vcpu *x, u64 nested_root)
{
	x->proc = vmx_caps.proc;
	vmwrite(VMCS_PIN_CTLS, vmx_caps.pin);
	vmwrite(VMCS_PROC_CTLS, x->proc);
	vmwrite(VMCS_PROC_CTLS2, vmx_caps.proc2);
	/* Only #DB and #AC exit (see vcpu_reflect_exception); #PF error-code
	 * filtering then means nothing. */
	vmwrite(VMCS_EXCEPTION_BITMAP, BIT(X86_EXC_DB) | BIT(X86_EXC_AC));
	vmwrite(VMCS_PF_ERROR_MASK, 0);
	vmwrite(VMCS_PF_ERROR_MATCH, 0);
	vmwrite(VMCS_IO_BITMAP_A, vmx_io_bitmap_pa(0));
	vmwrite(VMCS_IO_BITMAP_B, vmx_io_bitmap_pa(1));
	vmwrite(VMCS_TSC_OFFSET, 0);
	/* Owned CR bits; the read shadows are written with the CRs. */
	vmwrite(VMCS_CR0_MASK, vmx_caps.cr0_owned);
	vmwrite(VMCS_CR4_MASK, vmx_caps.cr4_owned);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_MSR_BITMAP, vmx_msr_bitmap_pa());
	x->eptp = nested_root | EPTP_WALK4 | vmx_caps.eptp_memtype;
	vmwrite(VMCS_EPTP, x->eptp);
	if (vmx_caps.proc2 & PROC2_VPID)
		vmwrite(VMCS_VPID, x->vpid);
	/* XSAVES/XRSTORS of every state component run without exits. */
	if (vmx_caps.proc2 & PROC2_XSAVES)
		vmwrite(VMCS_XSS_EXIT_BITMAP, 0);
}

static void setup_exit_controls(void)
{
	vmwrite(VMCS_EXIT_CTLS, vmx_caps.exit);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
}

static void setup_entry_controls(void)
{
	vmwrite(VMCS_ENTRY_CTLS, vmx_caps.entry);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
}

#define DEFINE_READ_SEL(seg)                                        \
	static u16 read_##seg(void)                                 \
	{                                                           \
		u16 s;                                              \
		__asm__ volatile("mov %%" #seg ", %0" : "=r"(s));   \
		return s;                                           \
	}
DEFINE_READ_SEL(es)
DEFINE_READ_SEL(cs)
DEFINE_READ_SEL(ss)
DEFINE_READ_SEL(ds)
DEFINE_READ_SEL(fs)
DEFINE_READ_SEL(gs)
#undef DEFINE_READ_SEL

/* lamina as it runs on this CPU now: its page tables, descriptor tables,
 * per-CPU GS and stacks. The exit lands in vmx_entry.S, which writes
 * HOST_RSP itself before each entry. */
static void setup_host_state(struct vcpu *v)
{
	struct desc_ptr gdtr, idtr;

	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_ES_SEL, read_es());
	vmwrite(VMCS_HOST_CS_SEL, read_cs());
	vmwrite(VMCS_HOST_SS_SEL, read_ss());
	vmwrite(VMCS_HOST_DS_SEL, read_ds());
	vmwrite(VMCS_HOST_FS_SEL, read_fs());
	vmwrite(VMCS_HOST_GS_SEL, read_gs());
	vmwrite(VMCS_HOST_TR_SEL, GDT_TSS);
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, (uintptr_t)&v->cpu->arch->tss);
	vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	vmwrite(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmwrite(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmwrite(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmwrite(VMCS_HOST_PAT, rdmsr(MSR_PAT));
	vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
	vmwrite(VMCS_HOST_RIP, (uintptr_t)vmx_exit_point);
}

/* Guest state that no boot protocol sets: MSRs at their power-on values,
 * no shadow VMCS, nothing pending. */
static void setup_guest_state(void)
{
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_PAT, POWER_ON_PAT);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
}

int vmcs_setup(struct vcpu *v, u64 nested_root)
{
	struct vmx_vcpu *x = v->vendor;

	setup_exec_controls(x, nested_root);
	setup_exit_controls();
	setup_entry_controls();
	setup_host_state(v);
	setup_guest_state();
	ept_flush(v);
	vpid_flush(v);
	return 0;
}

/* Attributes (AMD layout, see vmx_state.c): accessed code/data, present;
 * D/B and G for 32-bit flat segments; an LDT; a busy 32-bit TSS. */
#define ATTR_CODE16 0x009b
#define ATTR_DATA16 0x0093
#define ATTR_CODE32 0x0c9b
#define ATTR_DATA32 0x0c93
#define ATTR_LDT 0x0082
#define ATTR_TSS_BUSY 0x008b

static void reset_segments(const struct vcpu_reset *r)
{
	bool pm = r->protected_flat;
	u16 cs = pm ? r->cs_sel : r->real_cs;

	vmx_set_seg(X86_CS, cs, pm ? 0 : (u64)r->real_cs << 4, pm ? 0xffffffff : 0xffff,
		    pm ? ATTR_CODE32 : ATTR_CODE16);
	for (unsigned int s = X86_ES; s <= X86_GS; s++)
		if (s != X86_CS)
			vmx_set_seg(s, pm ? r->ds_sel : 0, 0, pm ? 0xffffffff : 0xffff,
				    pm ? ATTR_DATA32 : ATTR_DATA16);
	vmx_set_seg(VMCS_SEG_LDTR, 0, 0, 0xffff, ATTR_LDT);
	vmx_set_seg(VMCS_SEG_TR, 0, 0, 0xffff, ATTR_TSS_BUSY);
	vmwrite(VMCS_GUEST_GDTR_BASE, pm ? r->gdt_base : 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, pm ? r->gdt_limit : 0xffff);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, pm ? 0 : 0xffff);
}

/* A boot state: real mode at a SIPI vector as INIT leaves a CPU (CD and
 * NW set), or the 32-bit flat protected mode of the boot protocols. */
void vmx_reset(struct vcpu *v, const struct vcpu_reset *r)
{
	struct vmx_vcpu *x = v->vendor;

	reset_segments(r);
	vmx_load_cr0(x, r->protected_flat ? CR0_PE | CR0_ET : CR0_CD | CR0_NW | CR0_ET);
	vmx_load_cr4(x, 0);
	vmwrite(VMCS_GUEST_CR3, 0);
	write_cr2(0);
	vmx_load_efer(0);
	vmwrite(VMCS_GUEST_DR7, DR7_INIT);
	vmwrite(VMCS_GUEST_ACTIVITY, VMX_ACTIVITY_ACTIVE);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	x->waiting_sipi = false;
	x->fresh = true;
	x->event_set = false;
	x->nmi_queued = false;
	v->rip = x->exit_rip = r->rip;
	v->rflags = RFLAGS_FIXED;
	vpid_flush(v);
}

/* The CPU itself waits for a SIPI (INIT is blocked in this state, so the
 * vCPU is past its INIT already); VM entry checks the state underneath
 * even so, hence a valid real-mode one. */
void vmx_wait_for_sipi(struct vcpu *v)
{
	struct vcpu_reset r = { .protected_flat = false };

	vmx_reset(v, &r);
	vmwrite(VMCS_GUEST_ACTIVITY, VMX_ACTIVITY_WAIT_SIPI);
	((struct vmx_vcpu *)v->vendor)->waiting_sipi = true;
	v->state = VCPU_WAIT_SIPI;
}
