/* Intercepted MSR accesses. lamina intercepts few MSRs; those without a
 * rule here reach this code only because the CPU cannot pass them through
 * (AMD: MSRs outside the permission map), and are forwarded to the CPU:
 * a #GP there becomes a #GP in the guest, as on bare hardware. */
#include <core/exit_handlers.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/msr_memcfg.h>
#include <core/smp.h>
#include <x86/apic.h>
#include <x86/cpu.h>
#include <x86/mtrr.h>

#define VM_CR_LOCK BIT(3)
#define VM_CR_SVMDIS BIT(4)
#define FEATURE_CONTROL_LOCK BIT(0)
#define FEATURE_CONTROL_VMX (BIT(1) | BIT(2))
#define MSR_MMIO_CFG_BASE 0xc0010058 /* AMD: MMIO_CFG_BASE_ADDR */

/* Returns 0, or -1 for #GP. */
struct msr_rule {
	u32 first, last;
	int (*read)(struct vcpu *v, u32 msr, u64 *val);
	int (*write)(struct vcpu *v, u32 msr, u64 val);
};

static int gp_read(struct vcpu *v, u32 msr, u64 *val)
{
	return -1;
}

static int gp_write(struct vcpu *v, u32 msr, u64 val)
{
	return -1;
}

static int efer_read(struct vcpu *v, u32 msr, u64 *val)
{
	*val = vendor->get_reg(v, GUEST_EFER);
	return 0;
}

/* The EFER bits the guest may set: those CPUID announces and WRMSR then
 * takes on this CPU (SVME aside: SVM is hidden; LMSLE, UAIE and INTWB are
 * left out: how each CPU reports them is not settled enough to rely on).
 * Both, because VMRUN and VM entry check the guest's EFER against what
 * the CPU takes, not what it announces: Bochs's Ryzen announces TCE and
 * refuses it, and a guest that set it stopped with an invalid VMCB. Found
 * once, at boot; each bit is tried on lamina's own EFER and put back. */
static u64 efer_guest_bits;

static u64 efer_announced_bits(void)
{
	u64 bits = EFER_SCE | EFER_LME | EFER_LMA;

	if (cpu_has(0x80000001, CPUID_EDX, 20))
		bits |= EFER_NXE;
	if (cpu_has(0x80000001, CPUID_EDX, 25))
		bits |= BIT(14); /* FFXSR */
	if (cpu_has(0x80000001, CPUID_ECX, 17))
		bits |= BIT(15); /* TCE */
	if (cpu_has(0x80000021, CPUID_EAX, 8))
		bits |= BIT(21); /* AutoIBRS: Linux uses it on Zen 4 */
	if (cpu_has(0x80000008, CPUID_EBX, 8))
		bits |= BIT(17); /* MCOMMIT */
	return bits;
}

static void efer_find_guest_bits(void)
{
	u64 host = rdmsr(MSR_EFER), bits = efer_announced_bits();

	for (unsigned int bit = 0; bit < 64; bit++) {
		if (!(bits & ~host & BIT(bit)))
			continue;
		if (wrmsr_safe(MSR_EFER, host | BIT(bit))) {
			log_info("EFER bit %u: CPUID announces it, WRMSR refuses it: #GP for the guest "
				 "as well", bit);
			bits &= ~BIT(bit);
		}
		wrmsr(MSR_EFER, host);
	}
	efer_guest_bits = bits;
}

/* Architectural checks of WRMSR EFER. */
static int efer_write(struct vcpu *v, u32 msr, u64 val)
{
	u64 allowed = efer_guest_bits;
	u64 old = vendor->get_reg(v, GUEST_EFER);

	if (val & ~allowed)
		return -1;
	if ((vendor->get_reg(v, GUEST_CR0) & CR0_PG) && ((val ^ old) & EFER_LME))
		return -1;
	vendor->set_efer(v, (val & ~EFER_LMA) | (old & EFER_LMA));
	return 0;
}

/* VM_CR and VM_HSAVE_PA are AMD's; on Intel they reach lamina only
 * because they lie outside the MSR bitmap, and go to the CPU untouched. */
static bool amd(void)
{
	return vendor->id == LAMINA_VENDOR_AMD_SVM;
}

static int vm_cr_read(struct vcpu *v, u32 msr, u64 *val)
{
	if (!amd())
		return rdmsr_safe(msr, val);
	*val = VM_CR_LOCK | VM_CR_SVMDIS; /* "disabled by firmware" */
	return 0;
}

static int hsave_read(struct vcpu *v, u32 msr, u64 *val)
{
	if (!amd())
		return rdmsr_safe(msr, val);
	*val = 0;
	return 0;
}

static int svm_msr_write(struct vcpu *v, u32 msr, u64 val)
{
	return amd() ? -1 : wrmsr_safe(msr, val);
}

static int feature_control_read(struct vcpu *v, u32 msr, u64 *val)
{
	if (rdmsr_safe(msr, val))
		return -1;
	*val = (*val | FEATURE_CONTROL_LOCK) & ~FEATURE_CONTROL_VMX;
	return 0;
}

/* x2APIC ICR bits 12, 13, 16, 17 and 20-31 are reserved: #GP. */
#define X2APIC_ICR_RESERVED 0xfff33000ull

static int x2apic_icr_write(struct vcpu *v, u32 msr, u64 val)
{
	if (!(rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD))
		return -1; /* no x2APIC MSRs in xAPIC mode */
	if (val & X2APIC_ICR_RESERVED)
		return -1;
	if (smp_guest_icr_write(v, (u32)(val >> 32), (u32)val))
		return 0;
	return wrmsr_safe(msr, val);
}

/* Intercepted only while the ICR trap is on: it shows the CPU runs. */
static int x2apic_eoi_write(struct vcpu *v, u32 msr, u64 val)
{
	smp_guest_apic_write(v);
	return wrmsr_safe(msr, val);
}

/* Whether this is the first refusal *told stands for: each kind of
 * refused write is reported once, whichever CPU makes it. */
static bool first_refusal(bool *told)
{
	return !__atomic_exchange_n(told, true, __ATOMIC_RELAXED);
}

/* A write that would change any of the bits in fixed gets #GP, reported
 * once per MSR (told) as the guest trying to `what`; any other goes to
 * the CPU, which checks it as usual. */
static int write_keeping(struct vcpu *v, u32 msr, u64 val, u64 fixed, bool *told,
			 const char *what)
{
	u64 old;

	if (rdmsr_safe(msr, &old))
		return -1;
	if ((val ^ old) & fixed) {
		if (first_refusal(told))
			log_warn("CPU %u: the guest tried to %s from %#llx to %#llx: refused (#GP)",
				 v->cpu->index, what, (unsigned long long)(old & fixed),
				 (unsigned long long)(val & fixed));
		return -1;
	}
	return wrmsr_safe(msr, val);
}

/* The guest may turn its local APIC off and on and switch it between
 * xAPIC and x2APIC modes (the CPU checks those transitions), but not move
 * its page: lamina watches the ICR where the page is, and a page moved
 * over lamina's memory would catch lamina's own accesses there. Linux
 * never moves it; a move gets #GP. */
static int apic_base_write(struct vcpu *v, u32 msr, u64 val)
{
	static bool told;

	return write_keeping(v, msr, val, ~0xfffull, &told, "move its local APIC");
}

/* AMD's MMIO_CFG_BASE_ADDR: where the CPU sends ECAM accesses. lamina
 * traps mediated functions' configuration space in the ECAM window the
 * MCFG names, checked against this MSR at boot
 * (core/pci/pci_ecam_guard.c); moved or resized, the window would reach
 * them untrapped. Linux does not write it; the same value may be written
 * again. On Intel it reaches here only because it lies outside the MSR
 * bitmap, and the read of the old value gives the #GP the CPU would. */
static int mmio_cfg_base_write(struct vcpu *v, u32 msr, u64 val)
{
	static bool told;

	return write_keeping(v, msr, val, ~0ull, &told, "change MMIO_CFG_BASE_ADDR (ECAM)");
}

/* The MTRRs decide how lamina's own memory is cached, on every CPU for
 * itself: a write that would leave any of it WC (weakly ordered: lamina's
 * locks rely on ordinary store order), of a reserved type or under an
 * overlap the SDM leaves undefined gets #GP, reported once per MSR.
 * Writes that leave it UC, WT, WP or WB pass, turning the MTRRs off (all
 * UC) among them: Linux does that around every MTRR change. Decided on
 * this CPU's MTRRs with the new value in place (core/msr_memcfg.c). */
static int mtrr_write(struct vcpu *v, u32 msr, u64 val)
{
	static bool told[MSR_MTRR_VAR_LAST - MSR_MTRR_VAR_FIRST + 2];
	bool *t = &told[msr == MSR_MTRR_DEF_TYPE ? ARRAY_SIZE(told) - 1 : msr - MSR_MTRR_VAR_FIRST];
	struct mtrr_state now;
	u64 pa;
	u8 type;

	mtrr_read(&now, cpu_phys_bits());
	switch (mtrr_write_verdict(&now, msr, val, home.base, home.size, &pa, &type)) {
	case MEMCFG_PASS:
		return wrmsr_safe(msr, val);
	case MEMCFG_RESERVED:
		return -1;
	case MEMCFG_REFUSED:
		break;
	}
	if (!__atomic_exchange_n(t, true, __ATOMIC_RELAXED))
		log_warn("CPU %u: the guest tried to write %#llx to MTRR MSR %#x, which would make "
			 "lamina's memory at %#llx %s (type %u): refused (#GP)",
			 v->cpu->index, (unsigned long long)val, msr, (unsigned long long)pa,
			 memcfg_type_name(type), type);
	return -1;
}

/* AMD's memory map: SYSCFG, the IORRs, TOP_MEM and TOM2 decide whether
 * lamina's loads and stores reach DRAM, the SMM registers what runs in
 * SMM (core/msr_memcfg.c has what may change). On Intel they reach here only because they lie outside the MSR
 * bitmap, and go to the CPU as before. */
static int amd_memmap_write(struct vcpu *v, u32 msr, u64 val)
{
	static bool told[AMD_MEMMAP_NRULES];
	unsigned int i;
	const struct amd_memmap_rule *r = amd_memmap_rule(msr, &i);

	if (!amd() || !r)
		return wrmsr_safe(msr, val);
	return write_keeping(v, msr, val, r->keep, &told[i], r->what);
}

#define MSR_BIOS_UPDT_TRIG 0x79        /* Intel: load microcode */
#define MSR_AMD_PATCH_LOADER 0xc0010020 /* AMD: load microcode */

/* A microcode update from the guest: on Intel the SDM calls one in VMX
 * non-root operation unpredictable; on AMD it reaches the sibling thread
 * that may be running lamina. Dropped, as a rejected update would be: the
 * guest reads its revision unchanged and goes on (Linux reports the
 * update failed). Microcode belongs before lamina (firmware, or the boot
 * loader's early update). The other vendor's MSR goes to the CPU (#GP). */
static int microcode_write(struct vcpu *v, u32 msr, u64 val)
{
	static bool told;

	if ((msr == MSR_AMD_PATCH_LOADER) != amd())
		return wrmsr_safe(msr, val);
	if (first_refusal(&told))
		log_warn("CPU %u: the guest tried to load microcode (MSR %#x): dropped; load it "
			 "before lamina starts (reported once)", v->cpu->index, msr);
	return 0;
}

#define MSR_MISC_ENABLE 0x1a0           /* Intel */
#define MISC_ENABLE_PEBS_UNAVAILABLE BIT(12) /* read-only */
#define MISC_ENABLE_XD_DISABLE BIT(34)
#define MSR_PEBS_ENABLE 0x3f1

/* PEBS writes its records through the DS area's linear address whenever
 * a counter overflows, in lamina too (the counters are the guest's and
 * keep counting in VMX root operation), where that address means what
 * lamina's page tables make of it: anywhere, lamina's memory included.
 * The guest is told PEBS is unavailable, as on CPUs without it (Linux
 * checks this bit), and PEBS_ENABLE takes only 0. BTS needs nothing:
 * every VM exit clears DEBUGCTL. */
static int misc_enable_read(struct vcpu *v, u32 msr, u64 *val)
{
	if (rdmsr_safe(msr, val))
		return -1;
	*val |= MISC_ENABLE_PEBS_UNAVAILABLE;
	return 0;
}

/* XD Bit Disable would make the NX bit in lamina's own page tables a
 * reserved bit on this CPU, and the host EFER.NXE a VM-entry failure:
 * setting it gets #GP (Linux only ever clears it). The guest writes back
 * the PEBS bit it was shown; the CPU gets its own. */
static int misc_enable_write(struct vcpu *v, u32 msr, u64 val)
{
	static bool told;
	u64 old;

	if (rdmsr_safe(msr, &old))
		return -1;
	if (val & ~old & MISC_ENABLE_XD_DISABLE) {
		if (first_refusal(&told))
			log_warn("CPU %u: the guest tried to set XD Bit Disable in MISC_ENABLE: "
				 "refused (#GP), lamina's page tables use NX", v->cpu->index);
		return -1;
	}
	val = (val & ~MISC_ENABLE_PEBS_UNAVAILABLE) | (old & MISC_ENABLE_PEBS_UNAVAILABLE);
	return wrmsr_safe(msr, val);
}

static int pebs_enable_write(struct vcpu *v, u32 msr, u64 val)
{
	static bool told;

	if (val == 0)
		return wrmsr_safe(msr, val);
	if (first_refusal(&told))
		log_warn("CPU %u: the guest tried to enable PEBS (%#llx): refused (#GP), PEBS "
			 "would write through lamina's page tables", v->cpu->index,
			 (unsigned long long)val);
	return -1;
}

#define MSR_XSS 0xda0
#define XSS_PT BIT(8)

/* IA32_XSS bit 8 lets XRSTORS load Processor Trace's MSRs from memory
 * (RTIT_CTL with TraceEn, the output base), past the #GP their WRMSRs get
 * (rules[]): PT would write to host-physical addresses, lamina's memory
 * included (found by a review helper). Hidden in CPUID leaf 0xD as well;
 * the other bits go to the CPU. */
static int xss_write(struct vcpu *v, u32 msr, u64 val)
{
	static bool told;

	if (!(val & XSS_PT))
		return wrmsr_safe(msr, val);
	if (first_refusal(&told))
		log_warn("CPU %u: the guest tried to enable Processor Trace state in IA32_XSS "
			 "(%#llx): refused (#GP), XRSTORS would turn PT on", v->cpu->index,
			 (unsigned long long)val);
	return -1;
}

#define MSR_AMD_SMI_TRIGGER_IO 0xc0010056
#define MSR_AMD_SMM_CTL 0xc0010116

/* AMD's SMM_CTL enters or leaves SMM and SMI_TRIGGER_IO_CYCLE raises
 * SMIs on I/O: firmware's, read-only once HWCR.SmmLock is set (and
 * neither is anything an OS writes). Where firmware left the lock clear
 * they would reach SMM past SMM_BASE (see msr_memcfg.c): #GP, as locked. */
static int amd_smm_write(struct vcpu *v, u32 msr, u64 val)
{
	static bool told;

	if (!amd())
		return wrmsr_safe(msr, val);
	if (first_refusal(&told))
		log_warn("CPU %u: the guest tried to write %#llx to SMM MSR %#x: refused (#GP), as "
			 "with firmware's SmmLock (reported once)", v->cpu->index,
			 (unsigned long long)val, msr);
	return -1;
}

#define MSR_INTEL_OC_MAILBOX 0x150
#define MSR_AMD_PSTATE_DEF_FIRST 0xc0010064
#define MSR_AMD_PSTATE_DEF_LAST 0xc001006b
#define MSR_AMD_COFVID_CTL 0xc0010070

/* Voltage and frequency definitions: Intel's overclocking mailbox (core
 * voltage offsets), AMD's P-state definitions and, on family 10h-15h,
 * COFVID control (VID and FID directly). Set out of spec, they make the
 * CPU compute wrongly in lamina as well (Plundervolt, VoltJockey); an OS
 * selects among firmware's P-states (PERF_CTL, P-state control), which
 * pass. Writes get #GP as where firmware locked them. */
static int voltage_write(struct vcpu *v, u32 msr, u64 val)
{
	static bool told;

	if (amd() != (msr != MSR_INTEL_OC_MAILBOX))
		return wrmsr_safe(msr, val); /* the other vendor's: the CPU's answer */
	if (first_refusal(&told))
		log_warn("CPU %u: the guest tried to write %#llx to voltage/frequency MSR %#x: "
			 "refused (#GP, reported once)", v->cpu->index, (unsigned long long)val,
			 msr);
	return -1;
}

static const struct msr_rule rules[] = {
	{ MSR_APIC_BASE, MSR_APIC_BASE, NULL, apic_base_write },
	{ MSR_MMIO_CFG_BASE, MSR_MMIO_CFG_BASE, NULL, mmio_cfg_base_write },
	{ MSR_MTRR_VAR_FIRST, MSR_MTRR_VAR_LAST, NULL, mtrr_write },
	{ MSR_MTRR_DEF_TYPE, MSR_MTRR_DEF_TYPE, NULL, mtrr_write },
	{ MSR_AMD_SYSCFG, MSR_AMD_SYSCFG, NULL, amd_memmap_write },
	{ MSR_AMD_IORR_FIRST, MSR_AMD_TOP_MEM, NULL, amd_memmap_write },
	{ MSR_AMD_TOM2, MSR_AMD_TOM2, NULL, amd_memmap_write },
	{ MSR_AMD_SMM_BASE, MSR_AMD_SMM_MASK, NULL, amd_memmap_write },
	{ MSR_AMD_SMI_TRIGGER_IO, MSR_AMD_SMI_TRIGGER_IO, NULL, amd_smm_write },
	{ MSR_AMD_SMM_CTL, MSR_AMD_SMM_CTL, NULL, amd_smm_write },
	{ MSR_EFER, MSR_EFER, efer_read, efer_write },
	{ MSR_VM_CR, MSR_VM_CR, vm_cr_read, svm_msr_write },
	{ MSR_VM_HSAVE_PA, MSR_VM_HSAVE_PA, hsave_read, svm_msr_write },
	{ MSR_FEATURE_CONTROL, MSR_FEATURE_CONTROL, feature_control_read, gp_write },
	{ MSR_VMX_FIRST, MSR_VMX_LAST, gp_read, gp_write },
	/* Processor Trace writes to host-physical addresses that EPT does not
	 * translate (lamina sets no "PT uses guest physical addresses"), so it
	 * could write over lamina's memory; and it would trace lamina too.
	 * Hidden in CPUID, its MSRs raise #GP as on a CPU without it. */
	{ MSR_RTIT_OUTPUT_FIRST, MSR_RTIT_OUTPUT_LAST, gp_read, gp_write },
	{ MSR_RTIT_CTL_FIRST, MSR_RTIT_CTL_LAST, gp_read, gp_write },
	{ MSR_RTIT_ADDR_FIRST, MSR_RTIT_ADDR_LAST, gp_read, gp_write },
	{ MSR_BIOS_UPDT_TRIG, MSR_BIOS_UPDT_TRIG, NULL, microcode_write },
	{ MSR_AMD_PATCH_LOADER, MSR_AMD_PATCH_LOADER, NULL, microcode_write },
	{ MSR_MISC_ENABLE, MSR_MISC_ENABLE, misc_enable_read, misc_enable_write },
	{ MSR_PEBS_ENABLE, MSR_PEBS_ENABLE, NULL, pebs_enable_write },
	{ MSR_XSS, MSR_XSS, NULL, xss_write },
	{ MSR_INTEL_OC_MAILBOX, MSR_INTEL_OC_MAILBOX, NULL, voltage_write },
	{ MSR_AMD_PSTATE_DEF_FIRST, MSR_AMD_PSTATE_DEF_LAST, NULL, voltage_write },
	{ MSR_AMD_COFVID_CTL, MSR_AMD_COFVID_CTL, NULL, voltage_write },
	{ MSR_X2APIC_ICR, MSR_X2APIC_ICR, NULL, x2apic_icr_write },
	{ MSR_X2APIC_EOI, MSR_X2APIC_EOI, NULL, x2apic_eoi_write },
};

static const struct msr_rule *rule_for(u32 msr)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(rules); i++)
		if (msr >= rules[i].first && msr <= rules[i].last)
			return &rules[i];
	return NULL;
}

static void intercept_range(u32 first, u32 last, bool read, bool write)
{
	for (u32 msr = first; msr <= last; msr++)
		vendor->intercept_msr(msr, read, write);
}

/* Processor Trace's MSRs and Intel's MISC_ENABLE, reads and writes (see
 * rules[]); the others writes only: reads go to the CPU. Fixed-range MTRRs cover the first
 * MiB only, where lamina never is: not intercepted. */
void msr_prepare_guest(void)
{
	efer_find_guest_bits();
	intercept_range(MSR_RTIT_OUTPUT_FIRST, MSR_RTIT_OUTPUT_LAST, true, true);
	intercept_range(MSR_RTIT_CTL_FIRST, MSR_RTIT_CTL_LAST, true, true);
	intercept_range(MSR_RTIT_ADDR_FIRST, MSR_RTIT_ADDR_LAST, true, true);
	vendor->intercept_msr(MSR_APIC_BASE, false, true);
	vendor->intercept_msr(amd() ? MSR_AMD_PATCH_LOADER : MSR_BIOS_UPDT_TRIG, false, true);
	if (cpu_has(1, CPUID_EDX, 12)) { /* MTRRs */
		intercept_range(MSR_MTRR_VAR_FIRST, MSR_MTRR_VAR_LAST, false, true);
		vendor->intercept_msr(MSR_MTRR_DEF_TYPE, false, true);
	}
	if (!amd()) {
		vendor->intercept_msr(MSR_MISC_ENABLE, true, true);
		vendor->intercept_msr(MSR_PEBS_ENABLE, false, true);
		vendor->intercept_msr(MSR_XSS, false, true);
		vendor->intercept_msr(MSR_INTEL_OC_MAILBOX, false, true);
		return;
	}
	vendor->intercept_msr(MSR_MMIO_CFG_BASE, false, true);
	vendor->intercept_msr(MSR_AMD_SMI_TRIGGER_IO, false, true);
	vendor->intercept_msr(MSR_AMD_SMM_CTL, false, true);
	intercept_range(MSR_AMD_PSTATE_DEF_FIRST, MSR_AMD_PSTATE_DEF_LAST, false, true);
	vendor->intercept_msr(MSR_AMD_COFVID_CTL, false, true);
	for (unsigned int i = 0; i < AMD_MEMMAP_NRULES; i++)
		vendor->intercept_msr(amd_memmap_rules[i].msr, false, true);
}

void exit_rdmsr(struct vcpu *v)
{
	u32 msr = (u32)v->gpr[X86_RCX];
	const struct msr_rule *r = rule_for(msr);
	u64 val;
	int err = r && r->read ? r->read(v, msr, &val) : rdmsr_safe(msr, &val);

	if (err)
		return vcpu_inject_gp(v, 0);
	v->gpr[X86_RAX] = (u32)val;
	v->gpr[X86_RDX] = val >> 32;
	vcpu_skip_insn(v);
}

void exit_wrmsr(struct vcpu *v)
{
	u32 msr = (u32)v->gpr[X86_RCX];
	u64 val = (u32)v->gpr[X86_RAX] | (v->gpr[X86_RDX] << 32);
	const struct msr_rule *r = rule_for(msr);
	int err = r && r->write ? r->write(v, msr, val) : wrmsr_safe(msr, val);

	if (err)
		return vcpu_inject_gp(v, 0);
	vcpu_skip_insn(v);
}

/* XSETBV exits on VT-x only. Check the value as the CPU would, then set
 * it: XCR0 is the guest's (lamina never uses extended state). */
void exit_xsetbv(struct vcpu *v)
{
	u32 index = (u32)v->gpr[X86_RCX];
	u64 val = (u32)v->gpr[X86_RAX] | (v->gpr[X86_RDX] << 32);
	struct cpuid_regs d = cpuid_count(0xd, 0);
	u64 supported = d.eax | ((u64)d.edx << 32);

	if (index != 0 || !(val & 1) || (val & ~supported) ||
	    ((val & BIT(2)) && !(val & BIT(1))) || xsetbv_safe(index, val))
		return vcpu_inject_gp(v, 0);
	vcpu_skip_insn(v);
}
