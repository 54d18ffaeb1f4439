/* MTRR decoding. The type logic is pure so unit tests can feed it any
 * register values; only mtrr_read() touches the CPU. */
#include <x86/mtrr.h>
#include <x86/pagetable.h>

#define MTRR_DEF_E BIT(11)
#define MTRR_DEF_FE BIT(10)
#define MTRR_VALID BIT(11)

/* Fixed ranges: (start, size of each of the 8 sub-ranges) per MSR. */
static u64 fixed_start(unsigned int i)
{
	if (i < 8)
		return i * 0x10000ull;
	if (i < 24)
		return 0x80000 + (i - 8) * 0x4000ull;
	return 0xc0000 + (i - 24) * 0x1000ull;
}

static u64 fixed_end(unsigned int i)
{
	return i + 1 < MTRR_NFIXED ? fixed_start(i + 1) : 0x100000;
}

static unsigned int fixed_index(u64 pa)
{
	if (pa < 0x80000)
		return pa / 0x10000;
	if (pa < 0xc0000)
		return 8 + (pa - 0x80000) / 0x4000;
	return 24 + (pa - 0xc0000) / 0x1000;
}

static bool var_covers(const struct mtrr_state *s, const struct mtrr_var *v, u64 pa)
{
	return v->valid && ((pa & v->mask & s->phys_mask) == (v->base & v->mask & s->phys_mask));
}

/* SDM 11.11.4.1: UC wins; WT wins over WB; other overlaps are undefined
 * and we take UC, the safe choice. */
static u8 var_type_at(const struct mtrr_state *s, u64 pa)
{
	int t = -1;

	for (unsigned int i = 0; i < s->nvar; i++) {
		const struct mtrr_var *v = &s->var[i];
		if (!var_covers(s, v, pa))
			continue;
		if (t < 0 || t == v->type)
			t = v->type;
		else if (t == MT_UC || v->type == MT_UC)
			t = MT_UC;
		else if ((t == MT_WT && v->type == MT_WB) || (t == MT_WB && v->type == MT_WT))
			t = MT_WT;
		else
			t = MT_UC;
	}
	return t < 0 ? s->def_type : (u8)t;
}

static u8 type_at(const struct mtrr_state *s, u64 pa)
{
	if (!s->enabled)
		return MT_UC;
	if (s->fixed_enabled && pa < 0x100000)
		return s->fixed[fixed_index(pa)];
	return var_type_at(s, pa);
}

/* The first address above pa where the set of covering ranges may
 * change. Variable ranges are assumed contiguous (size = ~mask + 1), as
 * every firmware programs them. */
static u64 next_boundary(const struct mtrr_state *s, u64 pa, u64 limit)
{
	u64 next = limit;

	if (s->fixed_enabled && pa < 0x100000)
		next = MIN(next, fixed_end(fixed_index(pa)));
	for (unsigned int i = 0; i < s->nvar; i++) {
		const struct mtrr_var *v = &s->var[i];
		if (!v->valid)
			continue;
		u64 size = (~v->mask & s->phys_mask) + PAGE_SIZE;
		u64 start = v->base & v->mask & s->phys_mask;
		u64 end = start + size;
		if (start > pa)
			next = MIN(next, start);
		if (end > pa)
			next = MIN(next, end);
	}
	return next;
}

u8 mtrr_type_run(const struct mtrr_state *s, u64 pa, u64 limit, u64 *run_end)
{
	u8 t = type_at(s, pa);
	u64 end = pa;

	if (!s->enabled) {
		*run_end = limit;
		return t;
	}
	/* Extend over neighbouring pieces of the same type. */
	do {
		end = next_boundary(s, end, limit);
	} while (end < limit && type_at(s, end) == t);
	*run_end = end;
	return t;
}

#ifndef HOST_TEST
#include <x86/cpu.h>

void mtrr_read(struct mtrr_state *s, unsigned int phys_bits)
{
	u64 cap, def;

	*s = (struct mtrr_state){ 0 };
	s->phys_mask = ((1ull << phys_bits) - 1) & ~(PAGE_SIZE - 1);
	if (!cpu_has(1, CPUID_EDX, 12)) { /* no MTRRs: everything write-back */
		s->enabled = true;
		s->def_type = MT_WB;
		return;
	}
	cap = rdmsr(MSR_MTRR_CAP);
	def = rdmsr(MSR_MTRR_DEF_TYPE);
	s->enabled = def & MTRR_DEF_E;
	s->fixed_enabled = (cap & BIT(8)) && (def & MTRR_DEF_FE);
	s->def_type = def & 0xff;
	s->nvar = MIN(cap & 0xff, MTRR_MAX_VAR);
	for (unsigned int i = 0; i < s->nvar; i++) {
		u64 base = rdmsr(MSR_MTRR_PHYS_BASE(i));
		u64 mask = rdmsr(MSR_MTRR_PHYS_MASK(i));
		s->var[i] = (struct mtrr_var){
			.base = base & ~0xfffull, .mask = mask & ~0xfffull,
			.type = base & 0xff, .valid = mask & MTRR_VALID,
		};
	}
	if (!s->fixed_enabled)
		return;
	static const u32 fixed_msrs[11] = {
		MSR_MTRR_FIX64K, MSR_MTRR_FIX16K_80000, MSR_MTRR_FIX16K_A0000,
		MSR_MTRR_FIX4K_C0000, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
	};
	for (unsigned int m = 0; m < 11; m++) {
		u64 v = rdmsr(fixed_msrs[m]);
		for (unsigned int b = 0; b < 8; b++)
			s->fixed[m * 8 + b] = (v >> (8 * b)) & 0xff;
	}
}
#endif
