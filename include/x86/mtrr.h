/* The firmware's MTRR settings, read once, answering "which memory type
 * has this physical range" for the nested page tables (EPT needs the type
 * in each entry; large pages must not straddle two types). */
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
	u8 def_type;
	u8 fixed[MTRR_NFIXED];
	unsigned int nvar;
	struct mtrr_var var[MTRR_MAX_VAR];
	u64 phys_mask; /* bits [MAXPHYADDR-1:12] */
};

/* Read the MSRs of the running CPU (hypervisor only). */
void mtrr_read(struct mtrr_state *s, unsigned int phys_bits);

/* The type at pa, and in *run_end the end of the range from pa (capped at
 * limit) over which the type stays the same. */
u8 mtrr_type_run(const struct mtrr_state *s, u64 pa, u64 limit, u64 *run_end);

#endif
