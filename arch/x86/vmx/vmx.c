/* Intel VT-x back end: turning VMX on, the vCPU's VMCS, the MSR bitmap
 * and the vendor table. Intercepts are the minimum: CPUID, INVD, XSETBV,
 * GETSEC and the VMX instructions exit unconditionally on VT-x; beyond
 * them lamina asks for NMIs (lamina stays in control), writes of CR0/CR4
 * bits VMX fixes (CR0.NE, CR4.VMXE), the few MSRs core/msr.c has rules
 * for, the ports lamina hooks, and EPT violations. INIT, SIPI and
 * triple faults always exit. Interrupts, other port I/O and the local
 * APIC pass through. */
#include <core/log.h>
#include <core/mm.h>
#include <x86/cpu.h>
#include "vmx.h"

#define CPUID1_ECX_VMX 5
#define CPUID1_ECX_XSAVE 26

static u8 *msr_bitmap; /* shared by all vCPUs: read low, read high, write low, write high */
static u8 *io_bitmaps; /* shared, two pages of zeros: port I/O passes through */

/* On every CPU: firmware may have left the MSR unlocked. */
static int enable_feature_control(void)
{
	u64 fc = rdmsr(MSR_FEATURE_CONTROL), want;

	if (!feature_control_allows_vmx(fc, &want))
		return -1;
	return want == fc ? 0 : wrmsr_safe(MSR_FEATURE_CONTROL, want);
}

static int vmx_cpu_enable(void)
{
	void *region;
	u64 cr4 = read_cr4() | vmx_caps.cr4_fixed0 | CR4_VMXE;

	if (enable_feature_control()) {
		log_err("IA32_FEATURE_CONTROL does not allow VMX on this CPU");
		return -1;
	}
	/* XSETBV exits on VT-x and lamina executes it for the guest
	 * (exit_xsetbv), which needs CR4.OSXSAVE here too. */
	if (cpu_has(1, CPUID_ECX, CPUID1_ECX_XSAVE))
		cr4 |= CR4_OSXSAVE;
	write_cr0((read_cr0() | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1);
	write_cr4(cr4 & vmx_caps.cr4_fixed1);
	region = page_alloc(0);
	if (!region)
		return -1;
	*(u32 *)region = vmx_caps.revision;
	if (vmxon(virt_to_phys(region))) {
		log_err("VMXON failed");
		return -1;
	}
	return 0;
}

/* One bit per MSR in each of four 1 KiB quarters; MSRs outside the two
 * ranges always exit (and core/msr.c forwards them). */
static void vmx_intercept_msr(u32 msr, bool read, bool write)
{
	u32 index, base;
	u8 *b, bit;

	if (msr < 0x2000)
		base = 0;
	else if (msr - 0xc0000000u < 0x2000)
		base = 1024;
	else
		return;
	index = msr & 0x1fff;
	bit = (u8)(1u << (index % 8));
	b = &msr_bitmap[base + index / 8];
	__atomic_store_n(b, read ? (u8)(*b | bit) : (u8)(*b & ~bit), __ATOMIC_RELAXED);
	b += 2048;
	__atomic_store_n(b, write ? (u8)(*b | bit) : (u8)(*b & ~bit), __ATOMIC_RELAXED);
}

/* One bit per port in two contiguous pages (bitmaps A and B); an access
 * of N bytes exits if any of its N bits is set. */
static void vmx_intercept_io(u16 port, bool on)
{
	u8 bit = (u8)(1u << (port % 8));

	if (on)
		__atomic_fetch_or(&io_bitmaps[port / 8], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&io_bitmaps[port / 8], (u8)~bit, __ATOMIC_RELAXED);
}

/* The bitmaps all vCPUs share, set up at check() time so that hooks can
 * be added before any vCPU exists. The MSRs intercepted are those
 * core/msr.c has rules for that VT-x would otherwise pass through (VMX
 * is hidden); EFER is not among them: the VMCS switches it, and the
 * CPU's own checks are the architectural ones. */
static int shared_init(void)
{
	io_bitmaps = page_alloc(1);
	msr_bitmap = page_alloc(0);
	if (!io_bitmaps || !msr_bitmap)
		return -1;
	vmx_intercept_msr(MSR_FEATURE_CONTROL, true, true);
	for (u32 msr = MSR_VMX_BASIC; msr <= MSR_VMX_LAST; msr++)
		vmx_intercept_msr(msr, true, true);
	return 0;
}

static const char *vmx_check(void)
{
	u64 unused;
	const char *err;

	if (!cpu_has(1, CPUID_ECX, CPUID1_ECX_VMX))
		return "this CPU has no Intel VT-x (VMX)";
	if (!feature_control_allows_vmx(rdmsr(MSR_FEATURE_CONTROL), &unused))
		return "VT-x is disabled by the firmware (IA32_FEATURE_CONTROL is locked "
		       "with VMX off): enable it in the firmware setup";
	if ((err = vmx_read_caps()))
		return err;
	if (shared_init())
		return "out of memory for the VT-x bitmaps";
	return NULL;
}

u64 vmx_msr_bitmap_pa(void)
{
	return virt_to_phys(msr_bitmap);
}

u64 vmx_io_bitmap_pa(unsigned int which)
{
	return virt_to_phys(io_bitmaps + which * PAGE_SIZE);
}

static int vmx_vcpu_init(struct vcpu *v, u64 nested_root)
{
	struct vmx_vcpu *x = kzalloc(sizeof(*x));

	if (!x)
		return -1;
	x->vmcs = page_alloc(0);
	if (!x->vmcs)
		return -1;
	*(u32 *)x->vmcs = vmx_caps.revision;
	x->vmcs_pa = virt_to_phys(x->vmcs);
	/* VPID 0 is the host's: each vCPU gets its own, non-zero. */
	x->vpid = (u16)(v->cpu->index + 1);
	v->vendor = x;
	/* The VMCS stays current on this CPU for good: its vCPU never moves. */
	if (vmclear(x->vmcs_pa) || vmptrld(x->vmcs_pa))
		return -1;
	int r = vmcs_setup(v, nested_root);

	__atomic_store_n(&x->vmcs_current, r == 0, __ATOMIC_RELEASE);
	return r;
}

const struct vendor_ops vmx_ops = {
	.name = "VT-x",
	.id = LAMINA_VENDOR_INTEL_VMX,
	.check = vmx_check,
	.cpu_enable = vmx_cpu_enable,
	.vcpu_init = vmx_vcpu_init,
	.run = vmx_run,
	.reset = vmx_reset,
	.wait_for_sipi = vmx_wait_for_sipi,
	.host_interrupts = NULL,
	.get_reg = vmx_get_reg,
	.set_efer = vmx_set_efer,
	.set_cr2 = vmx_set_cr2,
	.get_seg = vmx_get_seg,
	.set_seg = vmx_load_seg,
	.get_sys_seg = vmx_get_sys_seg,
	.set_sys_seg = vmx_set_sys_seg,
	.set_cr = vmx_set_cr,
	.pae_pdpte = vmx_pae_pdpte,
	.cpl = vmx_cpl,
	.inject = vmx_inject,
	.debug_trap = vmx_debug_trap,
	.set_blocking = vmx_set_blocking,
	.nested_format = &ept_format,
	.flush_nested = ept_flush,
	.intercept_msr = vmx_intercept_msr,
	.intercept_io = vmx_intercept_io,
	.handle_private = vmx_handle_private,
	.nmi_missed = vmx_nmi_missed,
	/* APs wait for SIPI in guest mode, but the guest's INIT must not
	 * reach them there: an INIT that arrives while waiting for SIPI is
	 * held, and exits at the first entry after the SIPI (the SDM blocks
	 * INIT in that state). Bochs 2.7 does worse: it never clears an INIT
	 * pending in VMX non-root operation, so the CPU exits with INIT at
	 * every entry from then on. So lamina traps the ICR while APs start
	 * (core/smp.c), drops INITs to waiting APs and passes SIPIs on. */
};
