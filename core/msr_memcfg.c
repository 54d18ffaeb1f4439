/* What a guest may write to the MSRs that decide how lamina's own memory
 * is reached (see msr_memcfg.h). */
#include <core/msr_memcfg.h>
#include <x86/cpu_base.h>
#include <x86/pagetable.h>

static bool type_ok_for_lamina(u8 type)
{
	return type == MT_UC || type == MT_WT || type == MT_WP || type == MT_WB;
}

enum memcfg_verdict mtrr_write_verdict(const struct mtrr_state *now, u32 msr, u64 val,
				       u64 base, u64 size, u64 *pa, u8 *type)
{
	struct mtrr_state next = *now;
	u64 end = base + size, run_end;

	if (msr != MSR_MTRR_DEF_TYPE && (msr < MSR_MTRR_VAR_FIRST || msr > MSR_MTRR_VAR_LAST))
		return MEMCFG_RESERVED;
	if (mtrr_set_msr(&next, msr, val) || mtrr_value_reserved(&next, msr, val))
		return MEMCFG_RESERVED;
	next.mix_type = MTRR_TYPE_UNDEFINED;
	for (u64 at = base; at < end; at = run_end) {
		u8 t = mtrr_type_run(&next, at, end, &run_end);
		if (!type_ok_for_lamina(t)) {
			*pa = at;
			*type = t;
			return MEMCFG_REFUSED;
		}
	}
	return MEMCFG_PASS;
}

const char *memcfg_type_name(u8 type)
{
	if (type == MT_WC)
		return "WC";
	if (type == MTRR_TYPE_UNDEFINED)
		return "an undefined mix of types";
	return "a reserved type";
}

/* SYSCFG: MtrrFixDramModEn (bit 19) only makes the fixed ranges'
 * RdMem/WrMem bits, all below 1 MiB, accessible (Linux clears it when the
 * firmware left it set); the rest (MtrrFixDramEn, MtrrVarDramEn,
 * MtrrTom2En, Tom2ForceMemTypeWB, memory encryption) stays. The IORRs,
 * TOP_MEM and TOM2 stay as they are: an IORR over lamina's memory, or a
 * top of memory below it, sends lamina's loads and stores to MMIO (APM
 * vol. 2 7.9), and one raised over an MMIO range lamina uses (ECAM,
 * mediated BARs) sends them to DRAM. The SMM registers are locked by
 * firmware (HWCR.SmmLock) on real machines, which makes them read-only;
 * lamina keeps them so where firmware did not: SMM_ADDR/SMM_MASK (TSeg)
 * over lamina's memory would send lamina's accesses there away from DRAM
 * (APM vol. 2 10.2.5), and SMM_BASE moved into guest memory would run
 * the guest's code in SMM, with the whole machine, at the next SMI.
 * Linux writes none of them. */
#define SYSCFG_MTRR_FIX_DRAM_MOD_EN BIT(19)

const struct amd_memmap_rule amd_memmap_rules[AMD_MEMMAP_NRULES] = {
	{ MSR_AMD_SYSCFG, ~SYSCFG_MTRR_FIX_DRAM_MOD_EN, "change SYSCFG (C001_0010)" },
	{ MSR_AMD_IORR_FIRST, ~0ull, "change IORR_BASE0 (C001_0016)" },
	{ MSR_AMD_IORR_FIRST + 1, ~0ull, "change IORR_MASK0 (C001_0017)" },
	{ MSR_AMD_IORR_FIRST + 2, ~0ull, "change IORR_BASE1 (C001_0018)" },
	{ MSR_AMD_IORR_FIRST + 3, ~0ull, "change IORR_MASK1 (C001_0019)" },
	{ MSR_AMD_TOP_MEM, ~0ull, "change TOP_MEM (C001_001A)" },
	{ MSR_AMD_TOM2, ~0ull, "change TOM2 (C001_001D)" },
	{ MSR_AMD_SMM_BASE, ~0ull, "move SMM_BASE (C001_0111)" },
	{ MSR_AMD_SMM_ADDR, ~0ull, "change SMM_ADDR (C001_0112)" },
	{ MSR_AMD_SMM_MASK, ~0ull, "change SMM_MASK (C001_0113)" },
};

const struct amd_memmap_rule *amd_memmap_rule(u32 msr, unsigned int *index)
{
	for (unsigned int i = 0; i < AMD_MEMMAP_NRULES; i++) {
		if (amd_memmap_rules[i].msr == msr) {
			*index = i;
			return &amd_memmap_rules[i];
		}
	}
	return NULL;
}
