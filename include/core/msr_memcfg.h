/* The MSRs that decide how lamina's own memory is reached: the MTRRs
 * (both vendors; the memory type of each access) and, on AMD, the memory
 * map (SYSCFG, IORRs, TOP_MEM, TOM2: DRAM or MMIO) and the SMM registers
 * (SMM_BASE, the TSeg). What a guest's WRMSR
 * to them may do, as pure functions; core/msr.c reads the CPU, logs and
 * writes. */
#ifndef CORE_MSR_MEMCFG_H
#define CORE_MSR_MEMCFG_H

#include <core/types.h>
#include <x86/mtrr.h>

/* MTRRdefType and the variable-range pairs the intercepts cover: up to
 * the fixed-range MSRs at 0x250 (the architectural layout allows no
 * more pairs). */
#define MSR_MTRR_VAR_FIRST 0x200
#define MSR_MTRR_VAR_LAST 0x24f

enum memcfg_verdict {
	MEMCFG_PASS,     /* to the CPU */
	MEMCFG_RESERVED, /* #GP, as the CPU would give it */
	MEMCFG_REFUSED,  /* #GP: lamina's memory would be harmed */
};

/* A WRMSR of val to MTRRdefType or a variable-range MTRR on a CPU whose
 * MTRRs are *now: passes when, with val in place, all of [base, base +
 * size) has type UC, WT, WP or WB (MTRRs off: UC). Refused otherwise, with
 * the first address in *pa and the type there in *type (WC, a reserved
 * one, or MTRR_TYPE_UNDEFINED for an overlap the SDM leaves undefined:
 * the CPU might make it WC). An MSR the snapshot does not hold (a pair
 * the CPU lacks) is RESERVED. */
enum memcfg_verdict mtrr_write_verdict(const struct mtrr_state *now, u32 msr, u64 val,
				       u64 base, u64 size, u64 *pa, u8 *type);

/* A refused type in words: "WC", "an undefined mix of types", "a
 * reserved type". */
const char *memcfg_type_name(u8 type);

#define MSR_AMD_SYSCFG 0xc0010010
#define MSR_AMD_IORR_FIRST 0xc0010016 /* IORR_BASE0, MASK0, BASE1, MASK1 */
#define MSR_AMD_TOP_MEM 0xc001001a
#define MSR_AMD_TOM2 0xc001001d
#define MSR_AMD_SMM_BASE 0xc0010111 /* then SMM_ADDR, SMM_MASK (TSeg) */
#define MSR_AMD_SMM_ADDR 0xc0010112
#define MSR_AMD_SMM_MASK 0xc0010113

/* AMD's memory-map MSRs: a write must leave the bits in keep as they are. */
struct amd_memmap_rule {
	u32 msr;
	u64 keep;
	const char *what; /* "change SYSCFG (C001_0010)" */
};

#define AMD_MEMMAP_NRULES 10
extern const struct amd_memmap_rule amd_memmap_rules[AMD_MEMMAP_NRULES];

/* The rule for msr and its index below AMD_MEMMAP_NRULES, or NULL. */
const struct amd_memmap_rule *amd_memmap_rule(u32 msr, unsigned int *index);

#endif
