/* What the CPU's VT-x can do, and the controls lamina runs every vCPU
 * with. Each control word is what lamina wants, plus the bits the CPU
 * requires, minus the bits it cannot set; what lamina cannot do without
 * is checked first, so check() names the missing feature. */
#include <core/format.h>
#include <core/log.h>
#include <core/mm.h>
#include <x86/cpu.h>
#include "vmx.h"

struct vmx_caps vmx_caps;

enum ctl_word { CTL_PIN, CTL_PROC, CTL_PROC2, CTL_EXIT, CTL_ENTRY, CTL_WORDS };

/* The capability MSR of each word, and its TRUE_ variant, which allows
 * clearing "default1" bits (e.g. CR3-load exiting) where the CPU has it. */
static const struct {
	u32 msr, true_msr;
} ctl_msrs[CTL_WORDS] = {
	[CTL_PIN] = { MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED },
	[CTL_PROC] = { MSR_VMX_PROCBASED, MSR_VMX_TRUE_PROCBASED },
	[CTL_PROC2] = { MSR_VMX_PROCBASED2, 0 },
	[CTL_EXIT] = { MSR_VMX_EXIT, MSR_VMX_TRUE_EXIT },
	[CTL_ENTRY] = { MSR_VMX_ENTRY, MSR_VMX_TRUE_ENTRY },
};

/* What lamina cannot run without. */
static const struct {
	enum ctl_word word;
	u32 bit;
	const char *what;
} required[] = {
	{ CTL_PIN, PIN_NMI_EXITING, "NMI exiting" },
	{ CTL_PIN, PIN_VIRTUAL_NMIS, "virtual NMIs" },
	{ CTL_PROC, PROC_INTR_WINDOW, "interrupt-window exiting" },
	{ CTL_PROC, PROC_NMI_WINDOW, "NMI-window exiting" },
	{ CTL_PROC, PROC_MSR_BITMAPS, "MSR bitmaps" },
	{ CTL_PROC, PROC_SECONDARY, "secondary controls" },
	{ CTL_PROC2, PROC2_EPT, "EPT (extended page tables)" },
	{ CTL_PROC2, PROC2_UNRESTRICTED, "unrestricted guest" },
	{ CTL_EXIT, EXIT_HOST_64, "a 64-bit host" },
	{ CTL_EXIT, EXIT_SAVE_EFER | EXIT_LOAD_EFER, "EFER switching on exit" },
	{ CTL_EXIT, EXIT_SAVE_PAT | EXIT_LOAD_PAT, "PAT switching on exit" },
	{ CTL_ENTRY, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT, "EFER and PAT loading on entry" },
	{ CTL_ENTRY, ENTRY_IA32E_GUEST, "64-bit guests" },
};

/* What lamina sets where the CPU allows it (the required bits, and
 * features the guest sees: without "enable RDTSCP" RDTSCP raises #UD).
 * WBINVD exiting shows lamina a CPU going offline (core/smp.c), as on
 * AMD-V; without it the INIT exit is the fallback. */
static const u32 wanted[CTL_WORDS] = {
	[CTL_PIN] = PIN_NMI_EXITING | PIN_VIRTUAL_NMIS,
	[CTL_PROC] = PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY,
	[CTL_PROC2] = PROC2_EPT | PROC2_UNRESTRICTED | PROC2_VPID | PROC2_RDTSCP |
		      PROC2_WBINVD_EXITING | PROC2_INVPCID | PROC2_XSAVES | PROC2_USER_WAIT,
	[CTL_EXIT] = EXIT_SAVE_DEBUG | EXIT_HOST_64 | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
		     EXIT_SAVE_EFER | EXIT_LOAD_EFER,
	[CTL_ENTRY] = ENTRY_LOAD_DEBUG | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER,
};

static char why[128];

static const char *fail(const char *fmt, const char *what)
{
	format(why, sizeof(why), fmt, what);
	return why;
}

/* Allowed 0-settings in the low half (bits that must be 1), allowed
 * 1-settings in the high half. */
static u64 ctl_cap(enum ctl_word w, bool true_ctls)
{
	if (w == CTL_PROC2 && !(rdmsr(MSR_VMX_PROCBASED) >> 32 & PROC_SECONDARY))
		return 0;
	return rdmsr(true_ctls && ctl_msrs[w].true_msr ? ctl_msrs[w].true_msr : ctl_msrs[w].msr);
}

static const char *read_controls(u32 out[CTL_WORDS], u32 may[CTL_WORDS])
{
	bool true_ctls = rdmsr(MSR_VMX_BASIC) & VMX_BASIC_TRUE_CTLS;

	for (unsigned int w = 0; w < CTL_WORDS; w++) {
		u64 cap = ctl_cap(w, true_ctls);
		may[w] = cap >> 32;
		out[w] = (wanted[w] | (u32)cap) & may[w];
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(required); i++)
		if ((may[required[i].word] & required[i].bit) != required[i].bit)
			return fail("this CPU's VT-x lacks %s, which lamina needs",
				    required[i].what);
	return NULL;
}

/* EPT with a 4-level walk and a cacheable type for its tables, INVEPT;
 * VPID only with INVVPID (lamina flushes a vCPU's TLB on reset). */
static const char *check_ept_vpid(void)
{
	u64 c = vmx_caps.ept_vpid;

	if (!(c & EPT_CAP_WALK4))
		return "this CPU's EPT lacks 4-level page walks, which lamina needs";
	if (!(c & (EPT_CAP_WB | EPT_CAP_UC)))
		return "this CPU's EPT allows neither WB nor UC page tables";
	if (!(c & EPT_CAP_INVEPT) || !(c & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
		return "this CPU's VT-x lacks INVEPT, which lamina needs";
	vmx_caps.eptp_memtype = (c & EPT_CAP_WB) ? MT_WB : MT_UC;
	if (!(c & VPID_CAP_INVVPID) || !(c & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL)))
		vmx_caps.proc2 &= ~PROC2_VPID;
	ept_format.max_leaf_level = (c & EPT_CAP_1G) ? 3 : (c & EPT_CAP_2M) ? 2 : 1;
	return NULL;
}

/* CR0/CR4 bits VMX operation fixes. With unrestricted guest the guest
 * may clear PE and PG; the other fixed bits (CR0.NE, CR4.VMXE) are kept
 * set underneath and shown to the guest as it wrote them. */
static void read_fixed_bits(void)
{
	struct vmx_caps *c = &vmx_caps;

	c->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0) & ~(u64)(CR0_PE | CR0_PG);
	c->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	c->cr0_owned = c->cr0_fixed0;
	/* VMX and SMX are hidden from the guest (CPUID, GETSEC is #UD). */
	c->cr4_owned = c->cr4_fixed0 | CR4_VMXE | CR4_SMXE;
}

static void report(void)
{
	const struct vmx_caps *c = &vmx_caps;

	log_info("VT-x: VMCS revision %#x, EPT %s tables, largest page %s, VPID %s, "
		 "RDTSCP %s, INVPCID %s, XSAVES %s", c->revision,
		 c->eptp_memtype == MT_WB ? "WB" : "UC",
		 ept_format.max_leaf_level == 3 ? "1 GiB" :
		 ept_format.max_leaf_level == 2 ? "2 MiB" : "4 KiB",
		 c->proc2 & PROC2_VPID ? "on" : "off", c->proc2 & PROC2_RDTSCP ? "on" : "off",
		 c->proc2 & PROC2_INVPCID ? "on" : "off", c->proc2 & PROC2_XSAVES ? "on" : "off");
}

const char *vmx_read_caps(void)
{
	u32 ctl[CTL_WORDS], may[CTL_WORDS];
	u64 basic = rdmsr(MSR_VMX_BASIC);
	const char *err = read_controls(ctl, may);

	if (err)
		return err;
	/* Old CPUs limit VMX structures (VMXON region, VMCS, bitmaps) to
	 * the low 4 GiB; lamina allocates them from its home. */
	if ((basic & VMX_BASIC_32BIT_ADDRS) && home.base + home.size > 4 * GiB)
		return "this CPU's VT-x needs its structures below 4 GiB, and lamina's "
		       "memory lies above";
	vmx_caps.revision = basic & 0x7fffffff;
	vmx_caps.pin = ctl[CTL_PIN];
	vmx_caps.proc = ctl[CTL_PROC];
	vmx_caps.proc_may = may[CTL_PROC];
	vmx_caps.pin_may = may[CTL_PIN];
	vmx_caps.proc2 = ctl[CTL_PROC2];
	vmx_caps.exit = ctl[CTL_EXIT];
	vmx_caps.entry = ctl[CTL_ENTRY];
	vmx_caps.ept_vpid = rdmsr(MSR_VMX_EPT_VPID_CAP);
	vmx_caps.saves_lma = rdmsr(MSR_VMX_MISC) & VMX_MISC_SAVES_LMA;
	if (!(rdmsr(MSR_VMX_MISC) & VMX_MISC_WAIT_SIPI))
		return "this CPU's VT-x lacks the wait-for-SIPI activity state, which lamina needs";
	if ((err = check_ept_vpid()))
		return err;
	read_fixed_bits();
	report();
	return NULL;
}
