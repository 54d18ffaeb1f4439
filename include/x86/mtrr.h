/* MTRR settings as a snapshot, answering "which memory type has this
 * physical range": for the nested page tables (EPT needs the type in each
 * entry; large pages must not straddle two types), read once at boot, and
 * for the MSR policy (core/msr.c), which asks what a guest's WRMSR would
 * make of lamina's memory by putting the new value into a copy. */
#ifndef X86_MTRR_H
#define X86_MTRR_H

#include <core/types.h>

#define MTRR_MAX_VAR 32
#define MTRR_NFIXED 88 /* 8 x 64 KiB, 16 x 16 KiB, 64 x 4 KiB below 1 MiB */

struct mtrr_var {
	u64 base, mask; /* physical base and mask, low type/valid bits cleared */
	u8 type;
	bool valid;
};

struct mtrr_state {
	bool enabled, fixed_enabled;
	bool has_fixed;      /* MTRRcap.FIX: fixed_enabled follows MTRRdefType.FE */
	u8 def_type;
	/* The type taken where variable ranges overlap in a way the SDM
	 * leaves undefined (WC with WB, ...). 0 (UC) for the nested tables;
	 * the MSR policy sets MTRR_TYPE_UNDEFINED to see such overlaps. */
	u8 mix_type;
	u8 fixed[MTRR_NFIXED];
	unsigned int nvar;
	struct mtrr_var var[MTRR_MAX_VAR];
	u64 phys_mask; /* bits [MAXPHYADDR-1:12] */
};

/* Not a memory type: what an undefined overlap gives with mix_type so. */
#define MTRR_TYPE_UNDEFINED 0xff

/* An empty snapshot (everything disabled) for a CPU with this MTRRcap and
 * MAXPHYADDR; mtrr_set_msr() fills it in. */
void mtrr_state_init(struct mtrr_state *s, u64 cap, unsigned int phys_bits);

/* Put one MSR's value into the snapshot as the CPU decodes it: any of
 * MTRRdefType, the variable pairs below s->nvar and the fixed ranges.
 * Returns -1 (and leaves s alone) for any other MSR. */
int mtrr_set_msr(struct mtrr_state *s, u32 msr, u64 val);

/* Whether a WRMSR of val to that variable-range MSR or MTRRdefType would
 * #GP on the CPU: a reserved memory type, reserved bits, or address bits
 * at or above MAXPHYADDR. */
bool mtrr_value_reserved(const struct mtrr_state *s, u32 msr, u64 val);

/* Read the MSRs of the running CPU (hypervisor only). */
void mtrr_read(struct mtrr_state *s, unsigned int phys_bits);

/* The type at pa, and in *run_end the end of the range from pa (capped at
 * limit) over which the type stays the same. */
u8 mtrr_type_run(const struct mtrr_state *s, u64 pa, u64 limit, u64 *run_end);

#endif
