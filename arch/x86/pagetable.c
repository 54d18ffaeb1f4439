/* Generic 4-level page-table builder (see include/x86/pagetable.h). */
#include <x86/pagetable.h>

static u64 *table_at(struct pt_ctx *c, u64 pa)
{
	return c->table_va(c->arg, pa);
}

int pt_init(struct pt_ctx *c)
{
	c->tables = 0;
	if (!c->alloc_table(c->arg, &c->root_pa))
		return -1;
	c->tables++;
	return 0;
}

static unsigned int index_at(u64 va, unsigned int level)
{
	return (va >> PT_LEVEL_SHIFT(level)) & 511;
}

/* Replace the large leaf *e (level) by a table of next-level leaves with
 * the same attributes, so part of it can change. */
static int split_leaf(struct pt_ctx *c, u64 *e, unsigned int level)
{
	const struct pt_format *f = c->fmt;
	u64 pa_base = *e & f->addr_mask & ~(PT_LEVEL_SIZE(level) - 1);
	u64 attr = f->leaf_attr(*e, level);
	u64 tpa;
	u64 *t = c->alloc_table(c->arg, &tpa);

	if (!t)
		return -1;
	c->tables++;
	for (unsigned int i = 0; i < 512; i++)
		t[i] = f->leaf(pa_base + i * PT_LEVEL_SIZE(level - 1), level - 1, attr);
	__atomic_store_n(e, f->table(tpa), __ATOMIC_RELEASE);
	return 0;
}

/* The table below entry *e, creating or splitting as needed. */
static u64 *next_table(struct pt_ctx *c, u64 *e, unsigned int level)
{
	const struct pt_format *f = c->fmt;

	if (!f->present(*e)) {
		u64 tpa;
		if (!c->alloc_table(c->arg, &tpa))
			return NULL;
		c->tables++;
		__atomic_store_n(e, f->table(tpa), __ATOMIC_RELEASE);
	} else if (f->is_leaf(*e, level)) {
		if (split_leaf(c, e, level))
			return NULL;
	}
	return table_at(c, *e & f->addr_mask);
}

/* The largest level whose page fits at va/pa within size. */
static unsigned int best_level(const struct pt_format *f, u64 va, u64 pa, u64 size)
{
	for (unsigned int l = f->max_leaf_level; l > 1; l--) {
		u64 s = PT_LEVEL_SIZE(l);
		if (!(va & (s - 1)) && !(pa & (s - 1)) && size >= s)
			return l;
	}
	return 1;
}

int pt_map(struct pt_ctx *c, u64 va, u64 pa, u64 size, u64 attr)
{
	const struct pt_format *f = c->fmt;

	while (size) {
		unsigned int want = best_level(f, va, pa, size);
		u64 *t = table_at(c, c->root_pa);
		for (unsigned int l = PT_LEVELS; l > want; l--) {
			t = next_table(c, &t[index_at(va, l)], l);
			if (!t)
				return -1;
		}
		u64 step = PT_LEVEL_SIZE(want);
		__atomic_store_n(&t[index_at(va, want)], f->leaf(pa, want, attr),
				 __ATOMIC_RELEASE);
		/* A table that was under this entry is simply dropped: only
		 * whole, fully replaced ranges reach here, and lamina never
		 * frees page-table pages while CPUs may walk them. */
		va += step;
		pa += step;
		size -= step;
	}
	return 0;
}

unsigned int pt_lookup(struct pt_ctx *c, u64 va, u64 *entry, u64 *pa)
{
	const struct pt_format *f = c->fmt;
	u64 *t = table_at(c, c->root_pa);

	for (unsigned int l = PT_LEVELS; l >= 1; l--) {
		u64 e = t[index_at(va, l)];
		if (!f->present(e))
			return 0;
		if (f->is_leaf(e, l)) {
			u64 mask = PT_LEVEL_SIZE(l) - 1;
			if (entry)
				*entry = e;
			if (pa)
				*pa = (e & f->addr_mask & ~mask) | (va & mask);
			return l;
		}
		t = table_at(c, e & f->addr_mask);
	}
	return 0;
}

/* Bounds are inclusive: the last entry of the root ends at 2^64. */
static void count_in(struct pt_ctx *c, u64 *t, unsigned int level, u64 base,
		     u64 first, u64 last, unsigned long counts[4])
{
	const struct pt_format *f = c->fmt;

	for (unsigned int i = 0; i < 512; i++) {
		u64 a = base + i * PT_LEVEL_SIZE(level);
		if (level == PT_LEVELS && (a & BIT(47)))
			a |= 0xffff000000000000ull; /* canonical upper half */
		if (a + (PT_LEVEL_SIZE(level) - 1) < first || a > last ||
		    !f->present(t[i]))
			continue;
		if (f->is_leaf(t[i], level))
			counts[level]++;
		else
			count_in(c, table_at(c, t[i] & f->addr_mask), level - 1, a,
				 first, last, counts);
	}
}

void pt_count_leaves(struct pt_ctx *c, u64 va, u64 size, unsigned long counts[4])
{
	u64 last = va + size - 1 < va ? UINT64_MAX : va + size - 1;

	for (int i = 0; i < 4; i++)
		counts[i] = 0;
	if (size)
		count_in(c, table_at(c, c->root_pa), PT_LEVELS, 0, va, last, counts);
}
