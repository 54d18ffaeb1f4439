/* AMD-V back end: enabling SVM, the VMCB of each vCPU, guest state access.
 * Intercepts are the minimum: CPUID (to hide SVM), a few MSRs, the SVM
 * instructions (#UD), VMMCALL (hypercalls), INVD (would drop lamina's
 * dirty cache lines), NMI and INIT (lamina stays in control), shutdown,
 * nested page faults, and the ports lamina hooks (none by default).
 * Interrupts, other port I/O and the APIC pass through. */
#include <core/log.h>
#include <core/mm.h>
#include <core/panic.h>
#include <core/string.h>
#include <core/vcpu.h>
#include <x86/cpu.h>
#include "svm.h"

static u8 *msrpm;  /* shared by all vCPUs: 2 bits per MSR, read then write */
static u8 *iopm;   /* shared: all zero, port I/O passes through */
static bool has_nrips;

/* Each CPU's host save area, kept for when the CPU comes back from a
 * sleep state with SVM off. */
static void *hsave[MAX_CPUS];

static int svm_cpu_enable(void)
{
	void **h = &hsave[this_cpu_index()];

	if (!*h)
		*h = page_alloc(0);
	if (!*h)
		return -1;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, virt_to_phys(*h));
	return 0;
}

/* The CPU lost its state in a sleep state (svm_cpu_enable ran again): the
 * VMCB is in memory as it was, lamina's CR4 is the trampoline's. */
static void svm_vcpu_wake(struct vcpu *v)
{
	struct svm_vcpu *s = v->vendor;

	s->host_cr4 = read_cr4();
	s->vmcb->ctl.tlb_control = 1;
}

/* The MSR permission map covers three ranges of 8192 MSRs, two bits
 * each (read, write); MSRs outside them always exit. */
static void svm_intercept_msr(u32 msr, bool read, bool write)
{
	static const struct { u32 first; u32 byte; } ranges[] = {
		{ 0x00000000, 0x0000 }, { 0xc0000000, 0x0800 }, { 0xc0010000, 0x1000 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(ranges); i++) {
		if (msr < ranges[i].first || msr >= ranges[i].first + 0x2000)
			continue;
		u32 bit = (msr - ranges[i].first) * 2;
		u8 *b = &msrpm[ranges[i].byte + bit / 8];
		u8 mask = 3u << (bit % 8);
		u8 val = (read ? 1u : 0) << (bit % 8) | (write ? 2u : 0) << (bit % 8);
		__atomic_store_n(b, (u8)((*b & ~mask) | val), __ATOMIC_RELAXED);
		return;
	}
}

/* One bit per port; an access of N bytes exits if any of its N bits is
 * set. The IOIO intercept is always on: with no bit set it costs nothing. */
static void svm_intercept_io(u16 port, bool on)
{
	u8 bit = 1u << (port % 8);

	if (on)
		__atomic_fetch_or(&iopm[port / 8], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&iopm[port / 8], (u8)~bit, __ATOMIC_RELAXED);
}

/* The permission maps all vCPUs share, set up once (check() time, so
 * hooks can be added before any vCPU exists). */
static int shared_init(void)
{
	msrpm = page_alloc(1); /* 8 KiB */
	iopm = page_alloc(2);  /* 12 KiB used */
	if (!msrpm || !iopm)
		return -1;
	svm_intercept_msr(MSR_EFER, true, true);
	svm_intercept_msr(MSR_VM_CR, true, true);
	svm_intercept_msr(MSR_VM_HSAVE_PA, true, true);
	return 0;
}

static const char *svm_check(void)
{
	if (cpuid(0x80000000).eax < 0x8000000a || !cpu_has(0x80000001, CPUID_ECX, 2))
		return "this CPU has no AMD-V (SVM)";
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)
		return "AMD-V is disabled by the firmware (VM_CR.SVMDIS)";
	struct cpuid_regs svm_leaf = cpuid(0x8000000a);
	if (!(svm_leaf.edx & BIT(0)))
		return "this CPU has AMD-V without nested paging (NPT); lamina needs NPT";
	has_nrips = svm_leaf.edx & BIT(3);
	npt_format.max_leaf_level = cpu_has_1g_pages() ? 3 : 2;
	if (shared_init())
		return "out of memory for the AMD-V permission maps";
	log_info("AMD-V: revision %u, %u ASIDs, NRIPS %s, largest nested page %s",
		 svm_leaf.eax & 0xff, svm_leaf.ebx,
		 has_nrips ? "on" : "off (lamina decodes for the next RIP)",
		 npt_format.max_leaf_level == 3 ? "1 GiB" : "2 MiB");
	return NULL;
}

static int svm_vcpu_init(struct vcpu *v, u64 nested_root)
{
	struct svm_vcpu *s = kzalloc(sizeof(*s));

	if (!s)
		return -1;
	s->vmcb = page_alloc(0);
	s->host_vmcb = page_alloc(0);
	if (!s->vmcb || !s->host_vmcb)
		return -1;
	s->vmcb_pa = virt_to_phys(s->vmcb);
	s->host_vmcb_pa = virt_to_phys(s->host_vmcb);
	s->host_cr4 = read_cr4(); /* vcpu_create runs on the vCPU's own CPU */
	v->vendor = s;

	struct vmcb_control *c = &s->vmcb->ctl;
	c->intercept_misc1 = SVM_INTERCEPT_NMI | SVM_INTERCEPT_INIT |
			     SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD |
			     SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_MSR | SVM_INTERCEPT_IOIO |
			     SVM_INTERCEPT_SHUTDOWN;
	c->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL |
			     SVM_INTERCEPT_VMLOAD | SVM_INTERCEPT_VMSAVE |
			     SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			     SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_WBINVD;
	/* See vcpu_reflect_exception. */
	c->intercept_exc = BIT(X86_EXC_DB) | BIT(X86_EXC_GP) | BIT(X86_EXC_AC);
	c->iopm_pa = virt_to_phys(iopm);
	c->msrpm_pa = virt_to_phys(msrpm);
	c->asid = 1;
	c->tlb_control = 1; /* flush everything on the first VMRUN */
	c->nested_ctl = 1;  /* NP_ENABLE */
	c->nested_cr3 = nested_root;

	struct vmcb_save *g = &s->vmcb->save;
	g->g_pat = 0x0007040600070406ull; /* the power-on PAT */
	g->dr6 = DR6_INIT;
	g->dr7 = 0x400;
	g->rflags = 2;
	g->efer = EFER_SVME;
	return 0;
}

static void set_seg(struct vmcb_seg *s, u16 sel, u64 base, u32 limit, u16 attr)
{
	*s = (struct vmcb_seg){ .sel = sel, .attr = attr, .limit = limit, .base = base };
}

/* Attributes: code 0x9b / data 0x93 (present, accessed), plus D/B and G
 * for 32-bit flat segments. */
#define ATTR_CODE16 0x009b
#define ATTR_DATA16 0x0093
#define ATTR_CODE32 0x0c9b
#define ATTR_DATA32 0x0c93

static void svm_reset(struct vcpu *v, const struct vcpu_reset *r)
{
	struct svm_vcpu *s = v->vendor;
	struct vmcb_save *g = &s->vmcb->save;

	/* INIT flushes the TLBs (SDM Vol. 3A 10.1): no entry of the guest's
	 * run before the restart may outlive it (the ASID stays). */
	s->vmcb->ctl.tlb_control = 1;
	if (r->protected_flat) {
		set_seg(&g->cs, r->cs_sel, 0, 0xffffffff, ATTR_CODE32);
		set_seg(&g->ds, r->ds_sel, 0, 0xffffffff, ATTR_DATA32);
		g->es = g->ss = g->fs = g->gs = g->ds;
		set_seg(&g->gdtr, 0, r->gdt_base, r->gdt_limit, 0);
		set_seg(&g->idtr, 0, 0, 0, 0);
		g->cr0 = CR0_PE | CR0_ET;
	} else {
		set_seg(&g->cs, r->real_cs, (u64)r->real_cs << 4, 0xffff, ATTR_CODE16);
		set_seg(&g->ds, 0, 0, 0xffff, ATTR_DATA16);
		g->es = g->ss = g->fs = g->gs = g->ds;
		set_seg(&g->gdtr, 0, 0, 0xffff, 0);
		set_seg(&g->idtr, 0, 0, 0xffff, 0);
		g->cr0 = CR0_CD | CR0_NW | CR0_ET; /* as after INIT */
	}
	set_seg(&g->ldtr, 0, 0, 0xffff, 0x0082);
	set_seg(&g->tr, 0, 0, 0xffff, 0x008b);
	g->cpl = 0;
	g->cr2 = g->cr3 = g->cr4 = 0;
	g->efer = EFER_SVME;
	g->dr6 = DR6_INIT;
	g->dr7 = 0x400;
	g->rflags = 2;
	g->rip = r->rip;
	v->rip = r->rip;
	v->rflags = 2;
	s->vmcb->ctl.event_inj = 0;
	s->vmcb->ctl.int_state = 0;
	s->soft_moved = false;
	svm_nmi_reset(s);
}

/* Without LBR virtualization (lamina does not turn it on) VMRUN and
 * #VMEXIT leave DEBUGCTL alone: the guest's is the CPU's. */
static u64 guest_debugctl(void)
{
	u64 val = 0;

	rdmsr_safe(MSR_DEBUGCTL, &val);
	return val;
}

static u64 svm_get_reg(struct vcpu *v, enum guest_reg r)
{
	struct vmcb_save *g = &((struct svm_vcpu *)v->vendor)->vmcb->save;

	switch (r) {
	case GUEST_CR0: return g->cr0;
	case GUEST_CR2: return g->cr2;
	case GUEST_CR3: return g->cr3;
	case GUEST_CR4: return g->cr4;
	case GUEST_EFER: return g->efer & ~EFER_SVME; /* SVM is hidden */
	case GUEST_DEBUGCTL: return guest_debugctl();
	case GUEST_DR7: return g->dr7;
	}
	return 0;
}

/* A write of the guest's EFER lamina carried out. A change of NXE or LME
 * changes how the guest's addresses translate, which the VMM must flush
 * itself (APM Vol. 2 15.16): the CPU would have. */
static void svm_set_efer(struct vcpu *v, u64 efer)
{
	struct vmcb *vmcb = ((struct svm_vcpu *)v->vendor)->vmcb;

	if ((vmcb->save.efer ^ efer) & (EFER_NXE | EFER_LME))
		vmcb->ctl.tlb_control = 1;
	/* VMRUN requires EFER.SVME in the guest state. */
	vmcb->save.efer = efer | EFER_SVME;
}

static void svm_set_cr2(struct vcpu *v, u64 cr2)
{
	((struct svm_vcpu *)v->vendor)->vmcb->save.cr2 = cr2;
}

static void svm_get_seg(struct vcpu *v, enum x86_seg seg, struct segment *out)
{
	struct vmcb_save *g = &((struct svm_vcpu *)v->vendor)->vmcb->save;
	const struct vmcb_seg *segs[] = { &g->es, &g->cs, &g->ss, &g->ds, &g->fs, &g->gs };
	const struct vmcb_seg *s = segs[seg];

	*out = (struct segment){ .sel = s->sel, .attr = s->attr, .limit = s->limit,
				 .base = s->base };
}

static unsigned int svm_cpl(struct vcpu *v)
{
	return ((struct svm_vcpu *)v->vendor)->vmcb->save.cpl;
}

static void svm_host_interrupts(bool on)
{
	if (on)
		__asm__ volatile("stgi" ::: "memory");
	else
		__asm__ volatile("clgi" ::: "memory");
}

static void svm_flush_nested(struct vcpu *v)
{
	/* QEMU has no flush-by-ASID: flush everything (1). */
	((struct svm_vcpu *)v->vendor)->vmcb->ctl.tlb_control = 1;
}

const struct vendor_ops svm_ops = {
	.name = "AMD-V",
	.id = LAMINA_VENDOR_AMD_SVM,
	.check = svm_check,
	.cpu_enable = svm_cpu_enable,
	.vcpu_wake = svm_vcpu_wake,
	.vcpu_init = svm_vcpu_init,
	.run = svm_run,
	.reset = svm_reset,
	.wait_for_sipi = NULL,
	.host_interrupts = svm_host_interrupts,
	.get_reg = svm_get_reg,
	.set_efer = svm_set_efer,
	.set_cr2 = svm_set_cr2,
	.get_seg = svm_get_seg,
	.set_seg = svm_set_seg,
	.get_sys_seg = svm_get_sys_seg,
	.set_sys_seg = svm_set_sys_seg,
	.set_cr = svm_set_cr,
	.pae_pdpte = NULL, /* nested paging reads the PDPTEs at each walk (svm_set_cr) */
	.cpl = svm_cpl,
	.inject = svm_inject,
	.debug_trap = svm_debug_trap,
	.set_blocking = svm_set_blocking,
	.nested_format = &npt_format,
	.flush_nested = svm_flush_nested,
	.intercept_msr = svm_intercept_msr,
	.intercept_io = svm_intercept_io,
	.handle_private = NULL,
	.nmi_missed = NULL, /* GIF holds the NMI until VMRUN, which it exits */
};

bool svm_has_nrips(void)
{
	return has_nrips;
}
