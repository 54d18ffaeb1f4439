/* cpu_policy: what lamina shows the guest of the CPU. Virtualization is
 * hidden (CPUID bits, MSRs, instructions), the rest passes through.
 * Checks that hold on bare hardware too run everywhere; the ones only
 * lamina makes true are skipped bare.
 *
 * Options, to compare CPUID with what the emulator's CPU model should
 * report: vendor=STRING leaf1=EAX_OF_LEAF_1 maxleaf=N maxext=N. */
#include "apic.h"
#include "boot.h"
#include "cpu.h"
#include "hc.h"
#include "print.h"
#include "tap.h"
#include "trap.h"
#include "util.h"

const char test_name[] = "cpu_policy";
const char *const test_options[] = { "vendor", "leaf1", "maxleaf", "maxext", NULL };

/* ---- CPUID seen the same with and without lamina ---- */

static void check_cpuid_option(const char *key, u32 got)
{
	if (boot_opt(key))
		tap_eq(got, boot_opt_num(key, 0), "cpuid: %s is %s", key, boot_opt(key));
}

static void check_cpuid_passthrough(void)
{
	const char *want = boot_opt("vendor");
	u32 apic_base = (u32)rdmsr(MSR_APIC_BASE);
	char vendor[13];

	cpu_vendor(vendor);
	kprintf("# cpuid: vendor %s, leaf 1 eax 0x%x, max 0x%x/0x%x\n", vendor,
		cpuid(1).eax, cpuid(0).eax, cpuid(0x80000000).eax);
	if (want)
		tap_check(strcmp(vendor, want) == 0, "cpuid: vendor is %s (got %s)", want,
			  vendor);
	check_cpuid_option("leaf1", cpuid(1).eax);
	check_cpuid_option("maxleaf", cpuid(0).eax);
	check_cpuid_option("maxext", cpuid(0x80000000).eax);

	/* The initial APIC ID must be the one the local APIC answers to. */
	if ((apic_base & BIT(11)) && !(apic_base & BIT(10)))
		tap_eq(cpuid(1).ebx >> 24, mmio_read32((apic_base & ~0xfffu) + 0x20) >> 24,
		       "cpuid: leaf 1 APIC ID matches the local APIC's ID register");
}

/* ---- MSRs that are not lamina's business ---- */

static void check_msr_roundtrip(const char *name, u32 msr, u64 test_value)
{
	u64 old = 0, got = 0;
	int vec;

	if (rdmsr_probe(msr, &old) != TRAP_NONE) {
		tap_check(false, "msr: %s (0x%x) is readable", name, msr);
		return;
	}
	vec = wrmsr_probe(msr, test_value);
	rdmsr_probe(msr, &got);
	tap_check(vec == TRAP_NONE && got == test_value,
		  "msr: %s (0x%x) write 0x%llx, reads back", name, msr, test_value);
	if (got != test_value)
		kprintf("#   write raised %s, read 0x%llx\n", vector_name(vec), got);
	wrmsr_probe(msr, old);
	rdmsr_probe(msr, &got);
	tap_eq(got, old, "msr: %s restored to 0x%llx", name, old);
}

static void check_msr_passthrough(void)
{
	/* SYSRET/SYSCALL selectors 0x23/0x10 and an EIP: any value goes. */
	check_msr_roundtrip("STAR", MSR_STAR, 0x0023001012345678ull);
	/* PA1 = WC instead of WT: a valid PAT, which matters nothing here
	 * with paging off. */
	check_msr_roundtrip("PAT", MSR_PAT, 0x0007040600070106ull);
}

/* The local APIC's base: written back as it is, it takes the write (the
 * x2APIC test kernels switch modes through it); under lamina a move of
 * its page gets #GP and leaves it where it was. Bare, the emulators let
 * it move, which this kernel does not try. */
static void check_apic_base(void)
{
	u64 base = 0, got = 0;

	if (!tap_vec(rdmsr_probe(MSR_APIC_BASE, &base), TRAP_NONE, "msr: APIC_BASE readable"))
		return;
	tap_vec(wrmsr_probe(MSR_APIC_BASE, base), TRAP_NONE, "msr: APIC_BASE written back as it is");
	if (!lamina_present()) {
		tap_skip("bare", "msr: moving the APIC page raises #GP");
		return;
	}
	tap_vec(wrmsr_probe(MSR_APIC_BASE, base - 0x100000), VEC_GP,
		"msr: moving the APIC page (to 0x%llx) raises #GP", (base & ~0xfffull) - 0x100000);
	rdmsr_probe(MSR_APIC_BASE, &got);
	tap_eq(got, base, "msr: APIC_BASE unchanged");
}

/* ---- MSRs that decide how lamina's own memory is reached ---- */

#define MTRR_CAP 0xfe
#define MTRR_DEF_TYPE 0x2ff
#define MTRR_BASE(n) (0x200 + 2 * (n))
#define MTRR_MASK(n) (0x201 + 2 * (n))
#define MTRR_DEF_E BIT(11)
#define MTRR_VALID BIT(11)
#define MT_UC 0
#define MT_WC 1

/* Linux's cache_disable()/cache_enable() at boot on every CPU:
 * MTRRdefType with E, FE and the type cleared (everything UC), then its
 * value again. Bare and under lamina alike. */
static void check_mtrr_off_and_on(void)
{
	u64 def = 0, got = 1;

	if (!cpu_has(1, CPUID_EDX, 12)) {
		tap_skip("no MTRRs", "msr: MTRRdefType off and on again");
		return;
	}
	rdmsr_probe(MTRR_DEF_TYPE, &def);
	tap_vec(wrmsr_probe(MTRR_DEF_TYPE, def & ~0xcffull), TRAP_NONE,
		"msr: MTRRdefType 0x%llx with E, FE and type cleared (MTRRs off) is written",
		def);
	rdmsr_probe(MTRR_DEF_TYPE, &got);
	tap_eq(got, def & ~0xcffull, "msr: MTRRdefType reads back off");
	tap_vec(wrmsr_probe(MTRR_DEF_TYPE, def), TRAP_NONE, "msr: MTRRdefType restored");
	rdmsr_probe(MTRR_DEF_TYPE, &got);
	tap_eq(got, def, "msr: MTRRdefType reads back 0x%llx", def);
}

static u64 phys_addr_mask(void)
{
	u32 bits = cpuid(0x80000000).eax >= 0x80000008 ? cpuid(0x80000008).eax & 0xff : 36;

	return ((1ull << bits) - 1) & ~0xfffull;
}

/* A variable pair the firmware left unused, or -1. */
static int free_mtrr_pair(void)
{
	u64 cap = 0, mask = 0;

	rdmsr_probe(MTRR_CAP, &cap);
	for (int i = (int)(cap & 0xff) - 1; i >= 0; i--)
		if (rdmsr_probe(MTRR_MASK(i), &mask) == TRAP_NONE && !(mask & MTRR_VALID))
			return i;
	return -1;
}

/* Whether a valid variable range covers pa. */
static bool mtrr_var_covers(u64 pa)
{
	u64 cap = 0, base = 0, mask = 0;

	rdmsr_probe(MTRR_CAP, &cap);
	for (u32 i = 0; i < (cap & 0xff); i++) {
		rdmsr_probe(MTRR_BASE(i), &base);
		rdmsr_probe(MTRR_MASK(i), &mask);
		if ((mask & MTRR_VALID) && !((pa ^ base) & mask & phys_addr_mask()))
			return true;
	}
	return false;
}

/* The first 2 MiB of lamina's memory made WC by an unused pair: #GP, and
 * the pair stays unused; UC there passes. The base alone changes nothing
 * while the pair is not valid. */
static void check_mtrr_pair_over_home(u64 home)
{
	int n = free_mtrr_pair();
	u64 base = 0, mask = 0, got = 0, mask_2m = (phys_addr_mask() & ~(2 * MiB - 1)) | MTRR_VALID;

	if (n < 0) {
		tap_skip("no unused variable MTRR", "msr: a WC variable MTRR over lamina's memory");
		return;
	}
	rdmsr_probe(MTRR_BASE(n), &base);
	rdmsr_probe(MTRR_MASK(n), &mask);
	tap_vec(wrmsr_probe(MTRR_BASE(n), home | MT_WC), TRAP_NONE,
		"msr: MTRR pair %d base WC at lamina's memory (0x%llx), not valid: written", n, home);
	tap_vec(wrmsr_probe(MTRR_MASK(n), mask_2m), VEC_GP,
		"msr: making it valid (WC over lamina's memory) raises #GP");
	rdmsr_probe(MTRR_MASK(n), &got);
	tap_eq(got, mask, "msr: MTRR pair %d mask unchanged", n);
	tap_vec(wrmsr_probe(MTRR_BASE(n), home | 2), VEC_GP,
		"msr: a reserved MTRR type (2) raises #GP");
	tap_vec(wrmsr_probe(MTRR_BASE(n), home | MT_UC), TRAP_NONE, "msr: MTRR pair base UC written");
	tap_vec(wrmsr_probe(MTRR_MASK(n), mask_2m), TRAP_NONE,
		"msr: UC over lamina's memory is allowed");
	wrmsr_probe(MTRR_MASK(n), mask);
	wrmsr_probe(MTRR_BASE(n), base);
	rdmsr_probe(MTRR_MASK(n), &got);
	tap_eq(got, mask, "msr: MTRR pair %d restored", n);
}

/* WC as default type where no pair covers lamina's memory: #GP. */
static void check_mtrr_default_wc(u64 home)
{
	u64 def = 0, got = 0;

	if (mtrr_var_covers(home)) {
		tap_skip("a variable MTRR covers lamina's memory",
			 "msr: MTRRdefType WC raises #GP");
		return;
	}
	rdmsr_probe(MTRR_DEF_TYPE, &def);
	tap_vec(wrmsr_probe(MTRR_DEF_TYPE, (def & ~0xffull) | MTRR_DEF_E | MT_WC), VEC_GP,
		"msr: MTRRdefType WC (lamina's memory not in a variable range) raises #GP");
	rdmsr_probe(MTRR_DEF_TYPE, &got);
	tap_eq(got, def, "msr: MTRRdefType unchanged");
}

/* lamina's memory, or false (with the checks skipped) bare. */
static bool lamina_home(const char *what, u64 *base)
{
	u64 size;

	if (!lamina_present()) {
		tap_skip("bare", "%s", what);
		return false;
	}
	return tap_check(hc_meminfo(base, &size), "hypercall: MEMINFO answers");
}

static void check_mtrrs(void)
{
	u64 home;

	check_mtrr_off_and_on();
	if (!cpu_has(1, CPUID_EDX, 12) || !lamina_home("msr: MTRRs over lamina's memory", &home))
		return;
	check_mtrr_pair_over_home(home);
	check_mtrr_default_wc(home);
}

#define AMD_SYSCFG 0xc0010010
#define SYSCFG_FIX_DRAM_MOD_EN BIT(19)
#define SYSCFG_VAR_DRAM_EN BIT(20) /* TOP_MEM and the IORRs in use */
#define AMD_IORR_BASE0 0xc0010016
#define AMD_IORR_MASK0 0xc0010017
#define AMD_TOP_MEM 0xc001001a
#define AMD_TOM2 0xc001001d
#define AMD_SMM_BASE 0xc0010111
#define AMD_SMM_ADDR 0xc0010112
#define AMD_SMM_MASK 0xc0010113
#define SMM_MASK_VALID (BIT(0) | BIT(1)) /* ASeg, TSeg */
#define AMD_SMM_CTL 0xc0010116
#define SMM_CTL_ENTER BIT(1)
#define AMD_SMI_TRIGGER_IO 0xc0010056
#define SMI_TRIGGER_IO_EN BIT(31)

/* A write that must raise #GP and leave the MSR as it was. */
static void check_refused_write(const char *name, u32 msr, u64 val, const char *why)
{
	u64 old = 0, got = 0;

	rdmsr_probe(msr, &old);
	tap_vec(wrmsr_probe(msr, val), VEC_GP, "msr: %s 0x%llx (%s) raises #GP", name, val, why);
	rdmsr_probe(msr, &got);
	tap_eq(got, old, "msr: %s unchanged (0x%llx)", name, old);
}

/* AMD: an IORR over lamina's memory or a top of memory below it would
 * send lamina's accesses to MMIO; lamina refuses any change to them and
 * to SYSCFG but MtrrFixDramModEn. Firmware sets SYSCFG.MtrrVarDramEn on
 * every AMD CPU that has them; QEMU and Bochs have stubs (reads 0, writes
 * ignored), where these checks show lamina's refusals only. */
static void check_amd_memmap(void)
{
	u64 home, syscfg = 0, tom2 = 0;
	int vec;

	if (!lamina_home("msr: AMD's memory map over lamina's memory", &home))
		return;
	vec = rdmsr_probe(AMD_SYSCFG, &syscfg);
	if (vec != TRAP_NONE) {
		tap_skip("no SYSCFG", "msr: AMD's memory map over lamina's memory");
		return;
	}
	if (!(syscfg & SYSCFG_VAR_DRAM_EN))
		kprintf("# SYSCFG reads 0x%llx, without MtrrVarDramEn: a stub\n", syscfg);
	tap_vec(wrmsr_probe(AMD_SYSCFG, syscfg), TRAP_NONE, "msr: SYSCFG written back as it is");
	tap_vec(wrmsr_probe(AMD_SYSCFG, syscfg & ~SYSCFG_FIX_DRAM_MOD_EN), TRAP_NONE,
		"msr: SYSCFG with MtrrFixDramModEn clear is written (Linux clears it)");
	check_refused_write("SYSCFG", AMD_SYSCFG, syscfg ^ SYSCFG_VAR_DRAM_EN,
			    "MtrrVarDramEn flipped");
	if (home < 4 * GiB)
		check_refused_write("TOP_MEM", AMD_TOP_MEM, home & ~(8 * MiB - 1),
				    "below lamina's memory");
	rdmsr_probe(AMD_TOM2, &tom2);
	check_refused_write("TOM2", AMD_TOM2, tom2 == 4 * GiB ? 8 * GiB : 4 * GiB, "changed");
	check_refused_write("IORR_BASE0", AMD_IORR_BASE0, home, "MMIO at lamina's memory");
	check_refused_write("IORR_MASK0", AMD_IORR_MASK0,
			    (phys_addr_mask() & ~(2 * MiB - 1)) | MTRR_VALID, "valid");
	/* Firmware's HWCR.SmmLock makes these read-only on real machines;
	 * QEMU's and Bochs's AMD models have none of them. */
	check_refused_write("SMM_BASE", AMD_SMM_BASE, home, "into lamina's memory");
	check_refused_write("SMM_ADDR", AMD_SMM_ADDR, home, "TSeg at lamina's memory");
	check_refused_write("SMM_MASK", AMD_SMM_MASK,
			    (phys_addr_mask() & ~(128 * KiB - 1)) | SMM_MASK_VALID, "TSeg valid");
	tap_vec(wrmsr_probe(AMD_SMM_CTL, SMM_CTL_ENTER), VEC_GP,
		"msr: SMM_CTL Enter raises #GP");
	tap_vec(wrmsr_probe(AMD_SMI_TRIGGER_IO, SMI_TRIGGER_IO_EN), VEC_GP,
		"msr: SMI_TRIGGER_IO_CYCLE enabled raises #GP");
}

/* ---- EFER ---- */

static void check_efer_nxe(u64 efer)
{
	u64 got = 0;

	if (!cpu_has(0x80000001, CPUID_EDX, 20)) {
		tap_skip("no NX", "efer: NXE can be toggled");
		return;
	}
	wrmsr_probe(MSR_EFER, efer ^ EFER_NXE);
	rdmsr_probe(MSR_EFER, &got);
	tap_eq(got, efer ^ EFER_NXE, "efer: NXE toggled reads back");
	wrmsr_probe(MSR_EFER, efer);
	rdmsr_probe(MSR_EFER, &got);
	tap_eq(got, efer, "efer: NXE toggled back");
}

static void check_efer(bool amd)
{
	u64 efer = 0;

	if (!tap_vec(rdmsr_probe(MSR_EFER, &efer), TRAP_NONE, "efer: readable"))
		return;
	tap_eq(efer & EFER_SVME, 0, "efer: SVME reads clear (efer=0x%llx)", efer);
	tap_vec(wrmsr_probe(MSR_EFER, efer), TRAP_NONE, "efer: writing back its value works");
	check_efer_nxe(efer);
	/* On Intel, bit 12 is reserved anyway; on AMD only lamina forbids it
	 * (bare, the write would turn SVM on). */
	if (amd && !lamina_present())
		tap_skip("bare", "efer: setting SVME raises #GP");
	else
		tap_vec(wrmsr_probe(MSR_EFER, efer | EFER_SVME), VEC_GP,
			"efer: setting SVME raises #GP");
}

/* ---- XSAVE state control ---- */

static void check_xsetbv(void)
{
	u64 want = 3, got = 0; /* x87 | SSE */

	if (!cpu_has(1, CPUID_ECX, 26)) {
		tap_skip("no XSAVE", "xsetbv: XCR0 x87|SSE[|AVX] reads back");
		return;
	}
	write_cr4_probe(read_cr4() | CR4_OSXSAVE);
	tap_check(cpu_has(1, CPUID_ECX, 27), "cpuid: OSXSAVE follows CR4.OSXSAVE");
	if (cpu_has(1, CPUID_ECX, 28))
		want |= 4; /* AVX */
	tap_vec(xsetbv_probe(0, want), TRAP_NONE, "xsetbv: XCR0=0x%llx accepted", want);
	xgetbv_probe(0, &got);
	tap_eq(got, want, "xgetbv: XCR0 reads back 0x%llx", want);
	/* SSE without x87 is invalid: the CPU (or lamina for it) says #GP. */
	tap_vec(xsetbv_probe(0, 2), VEC_GP, "xsetbv: invalid XCR0=2 raises #GP");
	xgetbv_probe(0, &got);
	tap_eq(got, want, "xgetbv: XCR0 unchanged by the invalid write");
}

/* ---- AMD-V hidden ---- */

#define INSN_PROBE(fn, text, ...)                                            \
	static int fn(void)                                                  \
	{                                                                    \
		__asm__ volatile(PROBE(text)::__VA_ARGS__ : "memory", "ebx"); \
		return trap_vector;                                          \
	}

INSN_PROBE(probe_vmrun, "vmrun", "a"(0))
INSN_PROBE(probe_vmload, "vmload", "a"(0))
INSN_PROBE(probe_vmsave, "vmsave", "a"(0))
INSN_PROBE(probe_stgi, "stgi", "a"(0))
INSN_PROBE(probe_clgi, "clgi", "a"(0))
INSN_PROBE(probe_skinit, "skinit", "a"(0))
INSN_PROBE(probe_invlpga, "invlpga", "a"(0), "c"(0))

struct insn_probe {
	const char *name;
	int (*run)(void);
	bool needs_lamina; /* #UD only under lamina */
};

static void check_insns_ud(const struct insn_probe *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i].needs_lamina && !lamina_present())
			tap_skip("bare, CPU supports it", "insn: %s raises #UD", p[i].name);
		else
			tap_vec(p[i].run(), VEC_UD, "insn: %s raises #UD", p[i].name);
	}
}

/* With EFER.SVME clear, STGI, CLGI and SKINIT still run where CPUID
 * announces SKINIT (`skinit`); the rest always raise #UD. */
static const struct {
	const char *name;
	int (*run)(void);
	bool skinit;
} svm_insns[] = {
	{ "VMRUN", probe_vmrun, false },   { "VMLOAD", probe_vmload, false },
	{ "VMSAVE", probe_vmsave, false }, { "STGI", probe_stgi, true },
	{ "CLGI", probe_clgi, true },      { "SKINIT", probe_skinit, true },
	{ "INVLPGA", probe_invlpga, false },
};
static int svm_ring3_vector[ARRAY_SIZE(svm_insns)];

static void check_svm_insns(void)
{
	bool skinit = cpu_has(0x80000001, CPUID_ECX, 12);
	struct insn_probe p[ARRAY_SIZE(svm_insns)];

	for (size_t i = 0; i < ARRAY_SIZE(svm_insns); i++)
		p[i] = (struct insn_probe){ svm_insns[i].name, svm_insns[i].run,
					    svm_insns[i].skinit && skinit };
	check_insns_ud(p, ARRAY_SIZE(p));
}

static void run_svm_insns_ring3(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(svm_insns); i++)
		svm_ring3_vector[i] = svm_insns[i].run();
}

/* In ring 3 too: EFER.SVME is checked before CPL. Under lamina, where
 * EFER.SVME is set underneath, the CPU raises #GP first and lamina makes
 * it #UD; bare with SKINIT in CPUID, STGI, CLGI and SKINIT are
 * privileged instructions (#GP). */
static void check_svm_insns_ring3(void)
{
	bool skinit = cpu_has(0x80000001, CPUID_ECX, 12);

	ring3_run(run_svm_insns_ring3);
	for (size_t i = 0; i < ARRAY_SIZE(svm_insns); i++) {
		bool gp = svm_insns[i].skinit && skinit;

		tap_vec(svm_ring3_vector[i], gp ? VEC_GP : VEC_UD, "insn: %s in ring 3 raises %s",
			svm_insns[i].name, gp ? "#GP (SKINIT in CPUID)" : "#UD");
	}
}

static u8 scratch_page[4096] __aligned(4096);

static void check_svm_hidden(void)
{
	struct cpuid_regs r = cpuid(0x8000000a);
	u64 v = 1;

	if (!lamina_present()) {
		tap_skip("bare", "SVM in CPUID and SVM MSRs hidden");
		return;
	}
	tap_eq(cpuid(0x80000001).ecx & BIT(2), 0, "cpuid: 0x80000001 ECX.SVM reads 0");
	tap_eq(cpuid(0x80000001).ecx & BIT(12), 0, "cpuid: 0x80000001 ECX.SKINIT reads 0");
	tap_check(!r.eax && !r.ebx && !r.ecx && !r.edx, "cpuid: 0x8000000a reads zeros");
	tap_vec(rdmsr_probe(MSR_VM_CR, &v), TRAP_NONE, "msr: VM_CR readable");
	tap_eq(v, 0x18, "msr: VM_CR reads LOCK|SVMDIS");
	tap_vec(wrmsr_probe(MSR_VM_CR, 0x18), VEC_GP, "msr: VM_CR write raises #GP");
	tap_vec(wrmsr_probe(MSR_VM_CR, 0), VEC_GP, "msr: VM_CR clearing SVMDIS raises #GP");
	v = 1;
	tap_vec(rdmsr_probe(MSR_VM_HSAVE_PA, &v), TRAP_NONE, "msr: VM_HSAVE_PA readable");
	tap_eq(v, 0, "msr: VM_HSAVE_PA reads 0");
	/* A page of ours: if the write went through, lamina would save its
	 * own state there rather than somewhere worse. */
	tap_vec(wrmsr_probe(MSR_VM_HSAVE_PA, (u32)scratch_page), VEC_GP,
		"msr: VM_HSAVE_PA write raises #GP");
}

/* ---- VT-x hidden ---- */

static u64 vmx_region[2] __aligned(16);

INSN_PROBE(probe_vmxon, "vmxon %0", "m"(vmx_region[0]))
INSN_PROBE(probe_vmxoff, "vmxoff", "a"(0))
INSN_PROBE(probe_vmclear, "vmclear %0", "m"(vmx_region[0]))
INSN_PROBE(probe_vmptrld, "vmptrld %0", "m"(vmx_region[0]))
INSN_PROBE(probe_vmptrst, "vmptrst %0", "m"(vmx_region[0]))
INSN_PROBE(probe_vmread, "vmread %%eax, %%ebx", "a"(0x681e) /* guest RIP */)
INSN_PROBE(probe_vmwrite, "vmwrite %%ebx, %%eax", "a"(0x681e))
INSN_PROBE(probe_vmlaunch, "vmlaunch", "a"(0))
INSN_PROBE(probe_vmresume, "vmresume", "a"(0))
INSN_PROBE(probe_invept, "invept %0, %%eax", "m"(vmx_region), "a"(2))
INSN_PROBE(probe_invvpid, "invvpid %0, %%eax", "m"(vmx_region), "a"(2))
INSN_PROBE(probe_vmfunc, "vmfunc", "a"(0), "c"(0))

static void check_vmx_insns(void)
{
	/* Bare with CR4.VMXE clear they raise #UD too: not in VMX operation
	 * (VMFUNC: not in VMX non-root operation). */
	const struct insn_probe p[] = {
		{ "VMXON", probe_vmxon, false },       { "VMXOFF", probe_vmxoff, false },
		{ "VMCLEAR", probe_vmclear, false },   { "VMPTRLD", probe_vmptrld, false },
		{ "VMPTRST", probe_vmptrst, false },   { "VMREAD", probe_vmread, false },
		{ "VMWRITE", probe_vmwrite, false },   { "VMLAUNCH", probe_vmlaunch, false },
		{ "VMRESUME", probe_vmresume, false }, { "INVEPT", probe_invept, false },
		{ "INVVPID", probe_invvpid, false },   { "VMFUNC", probe_vmfunc, false },
	};

	check_insns_ud(p, ARRAY_SIZE(p));
}

static void check_feature_control(void)
{
	u64 fc = 0;

	int vec = rdmsr_probe(MSR_FEATURE_CONTROL, &fc);

	if (!tap_vec(vec, TRAP_NONE, "msr: IA32_FEATURE_CONTROL readable (0x%llx)", fc))
		return;
	if (lamina_present()) {
		tap_eq(fc & 1, 1, "msr: IA32_FEATURE_CONTROL locked");
		tap_eq(fc & 6, 0, "msr: IA32_FEATURE_CONTROL VMX enables clear");
	} else {
		tap_skip("bare", "msr: IA32_FEATURE_CONTROL locked, VMX enables clear");
	}
	if (fc & 1)
		tap_vec(wrmsr_probe(MSR_FEATURE_CONTROL, fc), VEC_GP,
			"msr: IA32_FEATURE_CONTROL (locked) write raises #GP");
	else
		tap_skip("unlocked", "msr: IA32_FEATURE_CONTROL write raises #GP");
}

/* Processor Trace writes to host-physical addresses, past EPT: hidden,
 * and its MSRs raise #GP under lamina (leaf 7 EBX bit 25, leaf 0x14). */
static void check_trace_hidden(void)
{
	u64 v = 0;

	if (!lamina_present()) {
		tap_skip("bare", "Processor Trace hidden");
		return;
	}
	struct cpuid_regs r = cpuid_count(0x14, 0);

	tap_eq(cpuid_count(7, 0).ebx & BIT(25), 0, "cpuid: 7 EBX.INTEL_PT reads 0");
	tap_check(!r.eax && !r.ebx && !r.ecx && !r.edx, "cpuid: 0x14 reads zeros");
	tap_vec(rdmsr_probe(0x570, &v), VEC_GP, "msr: RTIT_CTL read raises #GP");
	tap_vec(wrmsr_probe(0x570, 1), VEC_GP, "msr: RTIT_CTL write raises #GP");
	tap_vec(wrmsr_probe(0x560, 0x1000), VEC_GP, "msr: RTIT_OUTPUT_BASE write raises #GP");
	/* Nor through XRSTORS: its state component is not offered. */
	r = cpuid_count(0xd, 8);
	tap_eq(cpuid_count(0xd, 1).ecx & BIT(8), 0, "cpuid: 0xd.1 ECX (IA32_XSS) has no PT bit");
	tap_check(!r.eax && !r.ebx && !r.ecx && !r.edx, "cpuid: 0xd.8 (PT state) reads zeros");
	if (!cpu_is_amd())
		check_refused_write("IA32_XSS", 0xda0, BIT(8), "PT state for XRSTORS");
}

static void check_vmx_hidden(void)
{
	u32 bad = 0;
	u64 v;

	if (!lamina_present()) {
		tap_skip("bare", "VMX in CPUID, VMX MSRs and CR4.VMXE hidden");
		return;
	}
	tap_eq(cpuid(1).ecx & BIT(5), 0, "cpuid: 1 ECX.VMX reads 0");
	tap_eq(cpuid(1).ecx & BIT(6), 0, "cpuid: 1 ECX.SMX reads 0 (GETSEC is #UD)");
	for (u32 msr = 0x480; msr <= 0x493; msr++) {
		int vec = rdmsr_probe(msr, &v);

		if (vec != VEC_GP) {
			kprintf("#   rdmsr 0x%x: %s, 0x%llx\n", msr, vector_name(vec), v);
			bad++;
		}
	}
	tap_eq(bad, 0, "msr: VMX capability MSRs 0x480-0x493 raise #GP on read");
	tap_vec(write_cr4_probe(read_cr4() | CR4_VMXE), VEC_GP,
		"cr4: setting VMXE raises #GP");
}

/* ---- CR0 and CR4 ---- */

/* CET needs CR0.WP: with CR4.CET set, clearing WP raises #GP, and so
 * does setting CET while WP is clear. The MOV to CR0 also flips NE,
 * which makes VT-x hand it to lamina. */
static void check_cet_wp(void)
{
	u32 cr0 = read_cr0(), cr4 = read_cr4();

	if (!cpu_has(7, CPUID_ECX, 7) && !cpu_has(7, CPUID_EDX, 20)) {
		tap_skip("no CET", "cr0/cr4: CR0.WP and CR4.CET");
		return;
	}
	write_cr0(cr0 | CR0_WP);
	tap_vec(write_cr4_probe(cr4 | CR4_CET), TRAP_NONE, "cr4: CET set with CR0.WP set");
	tap_vec(write_cr0_probe((cr0 ^ CR0_NE) & ~CR0_WP), VEC_GP,
		"cr0: clearing WP (and flipping NE) with CR4.CET set raises #GP");
	tap_eq(read_cr0(), cr0 | CR0_WP, "cr0: unchanged by it");
	write_cr4(cr4);
	write_cr0(cr0 & ~CR0_WP);
	tap_vec(write_cr4_probe(cr4 | CR4_CET), VEC_GP,
		"cr4: setting CET with CR0.WP clear raises #GP");
	tap_eq(read_cr4(), cr4, "cr4: unchanged by it");
	write_cr4(cr4);
	write_cr0(cr0);
}

/* PAE paging keeps the four PDPTEs it loaded (at MOV to CR3, or a MOV to
 * CR0/CR4 that changes PG, CD, NW, PAE, PGE, PSE or SMEP): a PDPTE changed
 * in memory takes effect only then. Identity tables of 2 MiB pages; the
 * other directory maps page_a's page to page_b. A MOV to CR0 that flips
 * NE (carried out by lamina on VT-x) must not reload them; Bochs itself
 * reloads them at any MOV to CR0, so bare that check is skipped. */
#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)
static u64 pae_pdpt[4] __aligned(32);
static u64 pae_pd[4][512] __aligned(4096), pae_pd_alt[512] __aligned(4096);
static u64 pae_pt[512] __aligned(4096);
static volatile u32 page_a[1024] __aligned(4096), page_b[1024] __aligned(4096);

static void pae_build(void)
{
	u32 a = (u32)page_a, gb = a >> 30, big = (a >> 21) & 511;

	for (u32 i = 0; i < 4; i++) {
		pae_pdpt[i] = (u32)pae_pd[i] | PTE_P;
		for (u32 j = 0; j < 512; j++)
			pae_pd[i][j] = ((u64)i << 30 | j << 21) | PTE_P | PTE_RW | PTE_PS;
	}
	for (u32 j = 0; j < 512; j++)
		pae_pd_alt[j] = pae_pd[gb][j];
	for (u32 k = 0; k < 512; k++)
		pae_pt[k] = ((a & ~0x1fffffu) + (k << 12)) | PTE_P | PTE_RW;
	pae_pt[(a >> 12) & 511] = (u32)page_b | PTE_P | PTE_RW;
	pae_pd_alt[big] = (u32)pae_pt | PTE_P | PTE_RW;
}

static u32 read_page_a(void)
{
	__asm__ volatile("invlpg (%0)" ::"r"(page_a) : "memory");
	return page_a[0];
}

/* So do the stores lamina carries out for the guest: INSB from port 0xcfc
 * (lamina intercepts it) to page_a lands in page_a, not in page_b as the
 * changed PDPTE in memory would map it. */
static void check_pae_emulated(void)
{
	u32 edi = (u32)page_a, ecx = 1;
	u8 v;

	__asm__ volatile("inb %%dx, %%al" : "=a"(v) : "d"(0xcfc));
	__asm__ volatile("rep insb" : "+D"(edi), "+c"(ecx) : "d"(0xcfc) : "memory");
	tap_check((u8)page_a[0] == v && page_b[0] == 0xb,
		  "pae: INSB from port 0xcfc uses the loaded PDPTE too (page_a 0x%x, page_b 0x%x, "
		  "port 0x%x)", page_a[0], page_b[0], v);
	page_a[0] = 0xa;
}

static void check_pae_pdptes(void)
{
	u32 cr0 = read_cr0(), cr3, cr4 = read_cr4(), gb = (u32)page_a >> 30;

	if (!cpu_is_intel()) {
		tap_skip("VT-x's", "cr0: a MOV to CR0 leaves the PAE PDPTEs loaded");
		return;
	}
	pae_build();
	page_a[0] = 0xa;
	page_b[0] = 0xb;
	cr3 = read_cr3();
	write_cr4(cr4 | CR4_PAE);
	write_cr3((u32)pae_pdpt);
	write_cr0(cr0 | CR0_PG);
	pae_pdpt[gb] = (u32)pae_pd_alt | PTE_P;
	tap_eq(read_page_a(), 0xa, "pae: a PDPTE changed in memory is not used yet");
	check_pae_emulated();
	write_cr0((cr0 | CR0_PG) ^ CR0_NE);
	write_cr0(cr0 | CR0_PG);
	if (lamina_present())
		tap_eq(read_page_a(), 0xa, "pae: nor after a MOV to CR0 that flips NE");
	else /* Bochs's SetCR0 reloads at any MOV to CR0 with PAE paging */
		tap_skip("bare Bochs reloads them", "pae: nor after a MOV to CR0 that flips NE");
	write_cr3((u32)pae_pdpt);
	tap_eq(read_page_a(), 0xb, "pae: MOV to CR3 loads it");
	write_cr0(cr0);
	write_cr4(cr4);
	write_cr3(cr3);
}

/* ---- Instructions lamina carries out, as the CPU would end them ---- */

/* TF set by POPF traps after the instruction that follows the POPF: here
 * one lamina carries out for the guest. The #DB must come right after it,
 * as a single step, and only once (the probe clears TF). */
#define STEP_OVER(insn) PROBE("pushfl; orl $0x100, (%%esp); popfl; " insn "\n773: nop")

static void check_step_result(const char *what, u32 after)
{
	u32 dr6 = read_dr6();

	tap_vec(trap_vector, VEC_DB, "single step: %s is followed by #DB", what);
	tap_eq(trap_eip, after, "single step: the #DB comes right after %s", what);
	tap_check(dr6 & DR6_BS, "single step: DR6.BS is set after %s (DR6 0x%x)", what, dr6);
}

static void check_single_step(void)
{
	u32 a = 0, c = 0, after;

	write_dr6(DR6_INIT);
	__asm__ volatile(STEP_OVER("cpuid") "movl $773b, %2"
			 : "+a"(a), "+c"(c), "=r"(after)::"ebx", "edx", "memory");
	check_step_result("CPUID", after);
	/* The PCI configuration address: lamina may hook the port. */
	write_dr6(DR6_INIT);
	__asm__ volatile(STEP_OVER("inl %%dx, %%eax") "movl $773b, %1"
			 : "=a"(a), "=r"(after) : "d"(0xcf8) : "memory");
	check_step_result("IN from port 0xcf8", after);
	write_dr6(DR6_INIT);
}

#define SHADOW_VECTOR 0x40
volatile u32 shadow_irq_eip;
void shadow_irq_entry(void);
__asm__(".pushsection .text\n"
	"shadow_irq_entry:\n\t"
	"pushl %eax\n\t"
	"movl 4(%esp), %eax\n\t"
	"movl %eax, shadow_irq_eip\n\t"
	"popl %eax\n\t"
	"iretl\n"
	".popsection");

/* A self-IPI left pending in the IRR (IF is clear); false if it never got
 * there. */
static bool irq_make_pending(u8 vector)
{
	u32 irr = APIC_IRR + 0x10 * (vector / 32);

	apic_write(APIC_ICR_HI, apic_is_x2apic() ? 0 : apic_self_id() << 24);
	apic_write(APIC_ICR_LO, ICR_ASSERT | vector);
	for (u32 i = 0; i < 1000000; i++)
		if (apic_read(irr) & BIT(vector % 32))
			return true;
	return false;
}

/* STI holds interrupts back for one more instruction, here one lamina
 * carries out: a pending interrupt comes right after it, before the CLI
 * that follows. */
static void check_sti_shadow(void)
{
	u32 a = 0, c = 0, cli_at;
	u16 pic_mask;

	if (!apic_init() || apic_is_x2apic()) {
		tap_skip("no xAPIC", "sti; cpuid: the interrupt comes before the next instruction");
		return;
	}
	/* The PICs' interrupts (the BIOS's timer) would come through
	 * vectors 8-15, where the exceptions are: masked meanwhile. */
	pic_mask = inb(0x21) | (u16)inb(0xa1) << 8;
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	trap_set_handler(SHADOW_VECTOR, shadow_irq_entry);
	shadow_irq_eip = 0;
	if (tap_check(irq_make_pending(SHADOW_VECTOR), "a self-IPI is pending")) {
		__asm__ volatile("sti; cpuid\n773: cli\n\tmovl $773b, %2"
				 : "+a"(a), "+c"(c), "=r"(cli_at)::"ebx", "edx", "memory");
		tap_eq(shadow_irq_eip, cli_at, "sti; cpuid: the interrupt comes right after CPUID");
		if (!shadow_irq_eip)
			__asm__ volatile("sti; nop; cli" ::: "memory");
		apic_write(APIC_EOI, 0);
	}
	outb(0x21, (u8)pic_mask);
	outb(0xa1, (u8)(pic_mask >> 8));
}

/* Under lamina a microcode load from the guest is dropped without a
 * fault (the script finds lamina's report); bare it would reach the
 * emulator, which has no microcode: not tried. */
static void check_microcode_dropped(bool amd)
{
	u32 msr = amd ? 0xc0010020 : 0x79;

	if (!lamina_present()) {
		tap_skip("bare", "msr: a microcode load is dropped");
		return;
	}
	tap_vec(wrmsr_probe(msr, 0x12340000), TRAP_NONE,
		"msr: a microcode load (MSR 0x%x) is dropped without a fault", msr);
}

#define MSR_MISC_ENABLE 0x1a0
#define MISC_ENABLE_PEBS_UNAVAILABLE BIT(12)
#define MISC_ENABLE_XD_DISABLE BIT(34)
#define MSR_PEBS_ENABLE 0x3f1

/* Intel, under lamina: PEBS is reported unavailable and cannot be
 * enabled (it would write through lamina's page tables), and XD Bit
 * Disable cannot be set (lamina's page tables use NX). Bare, setting XD
 * Bit Disable would take NX from this kernel too: not tried. */
static void check_intel_misc_enable(void)
{
	u64 misc = 0;

	if (!lamina_present()) {
		if (rdmsr_probe(MSR_MISC_ENABLE, &misc) == TRAP_NONE)
			kprintf("# bare MISC_ENABLE: 0x%llx\n", misc);
		tap_skip("bare", "msr: MISC_ENABLE under lamina");
		return;
	}
	if (rdmsr_probe(MSR_MISC_ENABLE, &misc) != TRAP_NONE) {
		tap_skip("no MISC_ENABLE", "msr: MISC_ENABLE under lamina");
		return;
	}
	tap_eq(misc & MISC_ENABLE_PEBS_UNAVAILABLE, MISC_ENABLE_PEBS_UNAVAILABLE,
	       "msr: MISC_ENABLE reports PEBS unavailable (0x%llx)", misc);
	tap_vec(wrmsr_probe(MSR_MISC_ENABLE, misc), TRAP_NONE,
		"msr: MISC_ENABLE written back as read");
	if (misc & MISC_ENABLE_XD_DISABLE)
		tap_skip("XD disabled already", "msr: setting XD Bit Disable raises #GP");
	else
		check_refused_write("MISC_ENABLE", MSR_MISC_ENABLE, misc | MISC_ENABLE_XD_DISABLE,
				    "XD Bit Disable set");
	check_refused_write("PEBS_ENABLE", MSR_PEBS_ENABLE, 1, "PEBS on counter 0");
}

/* Voltage and frequency definitions (Intel's overclocking mailbox, AMD's
 * P-state definitions and COFVID control) cannot be written under lamina.
 * Neither emulator has them and both ignore the writes, as a CPU whose
 * firmware left them open would take them: bare, that is only shown. */
static void check_voltage_refused(bool amd)
{
	if (!lamina_present()) {
		kprintf("# bare: a write to MSR 0x%x %s\n", amd ? 0xc0010064 : 0x150,
			wrmsr_probe(amd ? 0xc0010064 : 0x150, amd ? 0 : 0x8000001000000000ull) ==
					TRAP_NONE ? "passes" : "faults");
		tap_skip("bare", "msr: voltage and frequency definitions refused");
		return;
	}
	if (!amd) {
		check_refused_write("OC_MAILBOX", 0x150, 0x8000001100000000ull,
				    "voltage offset command");
		return;
	}
	check_refused_write("PStateDef0", 0xc0010064, BIT(63) | (0x20u << 9) | 0x10,
			    "P-state 0 redefined");
	check_refused_write("COFVID_CTL", 0xc0010070, (0x20u << 9) | 0x10, "VID and FID set");
}

void test_main(void)
{
	bool amd = cpu_is_amd();

	check_cpuid_passthrough();
	check_msr_passthrough();
	check_apic_base();
	check_mtrrs();
	if (amd)
		check_amd_memmap();
	check_efer(amd);
	check_xsetbv();
	check_cet_wp();
	check_pae_pdptes();
	check_single_step();
	check_sti_shadow();
	check_trace_hidden();
	check_microcode_dropped(amd);
	check_voltage_refused(amd);
	if (amd) {
		check_svm_hidden();
		check_svm_insns();
		check_svm_insns_ring3();
	} else {
		check_intel_misc_enable();
		check_feature_control();
		check_vmx_hidden();
		check_vmx_insns();
	}
	tap_eq(read_cr4() & CR4_VMXE, 0, "cr4: VMXE reads clear");
	/* Without SMX in CPUID (lamina hides it) CR4.SMXE is reserved: lamina
	 * owns it on VT-x. (On AMD it is the CPU's: QEMU 7.2 lets it be set,
	 * then refuses the next VMRUN or hangs bare.) */
	if (amd)
		tap_skip("AMD", "cr4: setting SMXE without SMX raises #GP");
	else if (!cpu_has(1, CPUID_ECX, 6))
		tap_vec(write_cr4_probe(read_cr4() | BIT(14)), VEC_GP,
			"cr4: setting SMXE without SMX in CPUID raises #GP");
	else
		tap_skip("SMX in CPUID", "cr4: setting SMXE without SMX raises #GP");
}
