/* MTRR decoding. Everything works on a snapshot (struct mtrr_state) so
 * unit tests can feed it any register values and the MSR policy can ask
 * about a value not yet written; only mtrr_read() touches the CPU. */
#include <x86/cpu_base.h>
#include <x86/mtrr.h>
#include <x86/pagetable.h>

#define MTRR_CAP_VCNT 0xffull
#define MTRR_CAP_FIX BIT(8)
#define MTRR_DEF_E BIT(11)
#define MTRR_DEF_FE BIT(10)
#define MTRR_DEF_TYPE_MASK 0xffull
#define MTRR_VALID BIT(11)
#define MTRR_NFIXED_MSRS 11

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

/* The MSR holding fixed[8 * m .. 8 * m + 7]. */
static u32 fixed_msr(unsigned int m)
{
	static const u32 msrs[MTRR_NFIXED_MSRS] = {
		MSR_MTRR_FIX64K, MSR_MTRR_FIX16K_80000, MSR_MTRR_FIX16K_A0000,
		MSR_MTRR_FIX4K_C0000, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
	};

	return msrs[m];
}

void mtrr_state_init(struct mtrr_state *s, u64 cap, unsigned int phys_bits)
{
	*s = (struct mtrr_state){ 0 };
	s->phys_mask = ((1ull << phys_bits) - 1) & ~(PAGE_SIZE - 1);
	s->has_fixed = cap & MTRR_CAP_FIX;
	s->nvar = MIN(cap & MTRR_CAP_VCNT, MTRR_MAX_VAR);
}

static void set_def_type(struct mtrr_state *s, u64 val)
{
	s->enabled = val & MTRR_DEF_E;
	s->fixed_enabled = s->has_fixed && (val & MTRR_DEF_FE);
	s->def_type = val & MTRR_DEF_TYPE_MASK;
}

/* AMD keeps RdMem/WrMem in bits 3-4 of each fixed-range byte (readable
 * while SYSCFG.MtrrFixDramModEn is set); the type is the low 3 bits. */
static void set_fixed(struct mtrr_state *s, unsigned int m, u64 val)
{
	for (unsigned int b = 0; b < 8; b++)
		s->fixed[m * 8 + b] = (val >> (8 * b)) & 7;
}

static int fixed_msr_index(u32 msr)
{
	for (unsigned int m = 0; m < MTRR_NFIXED_MSRS; m++)
		if (fixed_msr(m) == msr)
			return (int)m;
	return -1;
}

int mtrr_set_msr(struct mtrr_state *s, u32 msr, u64 val)
{
	int m;

	if (msr == MSR_MTRR_DEF_TYPE) {
		set_def_type(s, val);
		return 0;
	}
	if (msr >= MSR_MTRR_PHYS_BASE(0) && msr < MSR_MTRR_PHYS_BASE(s->nvar)) {
		struct mtrr_var *v = &s->var[(msr - MSR_MTRR_PHYS_BASE(0)) / 2];
		if (msr & 1) {
			v->mask = val & ~0xfffull;
			v->valid = val & MTRR_VALID;
		} else {
			v->base = val & ~0xfffull;
			v->type = val & 0xff;
		}
		return 0;
	}
	m = fixed_msr_index(msr);
	if (m < 0 || !s->has_fixed)
		return -1;
	set_fixed(s, (unsigned int)m, val);
	return 0;
}

static bool type_valid(u64 t)
{
	return t == MT_UC || t == MT_WC || t == MT_WT || t == MT_WP || t == MT_WB;
}

bool mtrr_value_reserved(const struct mtrr_state *s, u32 msr, u64 val)
{
	u64 addr_bits = s->phys_mask;

	if (msr == MSR_MTRR_DEF_TYPE)
		return (val & ~(MTRR_DEF_E | MTRR_DEF_FE | MTRR_DEF_TYPE_MASK)) ||
		       !type_valid(val & MTRR_DEF_TYPE_MASK);
	if (msr & 1) /* PHYSMASK: bits 10:0 reserved */
		return val & ~(addr_bits | MTRR_VALID);
	return (val & ~(addr_bits | 0xff)) || !type_valid(val & 0xff);
}

static u64 var_mask(const struct mtrr_state *s, const struct mtrr_var *v)
{
	return v->mask & s->phys_mask;
}

static bool var_covers(const struct mtrr_state *s, const struct mtrr_var *v, u64 pa)
{
	return v->valid && !((pa ^ v->base) & var_mask(s, v));
}

/* SDM 11.11.4.1: UC wins; WT wins over WB; other overlaps are undefined
 * and take s->mix_type. */
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
			t = s->mix_type;
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

/* The lowest a >= x with (a & mask) == want (want within mask), or ~0 if
 * there is none. From the top bit down, a copies x while the bits mask
 * fixes agree; at the first that does not, a is either already above x
 * (the rest: want's bits, free bits 0) or must carry into the lowest free
 * bit above that x has clear. */
static u64 next_match(u64 x, u64 mask, u64 want)
{
	u64 carry = 0;

	for (int i = 63; i >= 0; i--) {
		u64 bit = 1ull << i, below = bit - 1;
		if (!(mask & bit)) {
			if (!(x & bit))
				carry = bit;
			continue;
		}
		if (!((x ^ want) & bit))
			continue;
		if (want & bit)
			return (x & ~(below | bit)) | (want & (below | bit));
		if (!carry)
			return ~0ull;
		return (x & ~((carry - 1) | carry)) | carry | (want & (carry - 1));
	}
	return x;
}

/* The first address above pa where v starts or stops covering. Its mask
 * need not be contiguous (SDM 11.11.3): coverage holds over aligned
 * blocks the size of the mask's lowest set bit, and resumes at the next
 * address whose masked bits equal the base's. */
static u64 var_next_change(const struct mtrr_state *s, const struct mtrr_var *v, u64 pa)
{
	u64 mask = var_mask(s, v);

	if (!mask)
		return ~0ull; /* covers everything */
	if (var_covers(s, v, pa))
		return (pa | ((mask & -mask) - 1)) + 1;
	return next_match(pa + 1, mask, v->base & mask);
}

/* The first address above pa where the set of covering ranges may
 * change. */
static u64 next_boundary(const struct mtrr_state *s, u64 pa, u64 limit)
{
	u64 next = limit;

	if (s->fixed_enabled && pa < 0x100000)
		next = MIN(next, fixed_end(fixed_index(pa)));
	for (unsigned int i = 0; i < s->nvar; i++)
		if (s->var[i].valid)
			next = MIN(next, var_next_change(s, &s->var[i], pa));
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
	if (!cpu_has(1, CPUID_EDX, 12)) { /* no MTRRs: everything write-back */
		mtrr_state_init(s, 0, phys_bits);
		s->enabled = true;
		s->def_type = MT_WB;
		return;
	}
	mtrr_state_init(s, rdmsr(MSR_MTRR_CAP), phys_bits);
	mtrr_set_msr(s, MSR_MTRR_DEF_TYPE, rdmsr(MSR_MTRR_DEF_TYPE));
	for (unsigned int i = 0; i < s->nvar; i++) {
		mtrr_set_msr(s, MSR_MTRR_PHYS_BASE(i), rdmsr(MSR_MTRR_PHYS_BASE(i)));
		mtrr_set_msr(s, MSR_MTRR_PHYS_MASK(i), rdmsr(MSR_MTRR_PHYS_MASK(i)));
	}
	for (unsigned int m = 0; s->has_fixed && m < MTRR_NFIXED_MSRS; m++)
		mtrr_set_msr(s, fixed_msr(m), rdmsr(fixed_msr(m)));
}
#endif
