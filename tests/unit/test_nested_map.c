/* The nested page-table builder: arch/x86/pagetable.c, mtrr.c and
 * nested_map.c, with a test entry format and tables in host memory (a
 * table's "physical" address is its host pointer). Each scenario is
 * checked against a model with one (present, type, permissions) value per
 * 4 KiB page: every leaf maps itself, lies in one uniform piece of the
 * model, all present pages are mapped, and the leaf count per level is
 * the optimum computed from the model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <x86/nested_map.h>

#include "host_env.h"

/* ---- a test entry format ---- */

#define E_R BIT(0)
#define E_W BIT(1)
#define E_X BIT(2)
#define E_U BIT(3)
#define E_G BIT(4)
#define E_TYPE_SHIFT 5 /* 3 bits */
#define E_LARGE BIT(8)
#define E_TABLE BIT(9)
#define E_ADDR 0x000ffffffffff000ull

static unsigned long format_misuse; /* calls the builder should not make */
static unsigned int max_level_now;

static u64 t_table(u64 pa)
{
	if (pa & ~E_ADDR)
		format_misuse++;
	return pa | E_TABLE;
}

static u64 t_leaf(u64 pa, unsigned int level, u64 attr)
{
	if (level < 1 || level > max_level_now || (pa & (PT_LEVEL_SIZE(level) - 1)) ||
	    (pa & ~E_ADDR))
		format_misuse++;
	if (!(attr & PT_R))
		return 0;
	return pa | E_R | (attr & PT_W ? E_W : 0) | (attr & PT_X ? E_X : 0) |
	       (attr & PT_USER ? E_U : 0) | (attr & PT_GLOBAL ? E_G : 0) |
	       (u64)PT_MEMTYPE_OF(attr) << E_TYPE_SHIFT | (level > 1 ? E_LARGE : 0);
}

static u64 t_leaf_attr(u64 e, unsigned int level)
{
	if (!(e & E_R) || (e & E_TABLE) || (level > 1) != !!(e & E_LARGE))
		format_misuse++;
	return PT_R | (e & E_W ? PT_W : 0) | (e & E_X ? PT_X : 0) |
	       (e & E_U ? PT_USER : 0) | (e & E_G ? PT_GLOBAL : 0) |
	       PT_MEMTYPE((e >> E_TYPE_SHIFT) & 7);
}

static bool t_present(u64 e)
{
	return e & (E_R | E_TABLE);
}

static bool t_is_leaf(u64 e, unsigned int level)
{
	return level == 1 || (e & E_LARGE);
}

static struct pt_format fmt = {
	.table = t_table, .leaf = t_leaf, .leaf_attr = t_leaf_attr,
	.present = t_present, .is_leaf = t_is_leaf, .addr_mask = E_ADDR,
};

/* ---- tables in host memory ---- */

struct tables {
	void **v;
	size_t n, cap;
	long budget; /* allocations left before "out of memory"; < 0: no limit */
};

static void *alloc_table(void *arg, u64 *pa)
{
	struct tables *t = arg;

	if (!t->budget)
		return NULL;
	if (t->budget > 0)
		t->budget--;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->v = realloc(t->v, t->cap * sizeof(void *));
		assert_non_null(t->v);
	}
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	assert_non_null(p);
	memset(p, 0, PAGE_SIZE);
	t->v[t->n++] = p;
	*pa = (uintptr_t)p;
	return p;
}

static void *table_va(void *arg, u64 pa)
{
	return (void *)(uintptr_t)pa;
}

struct pt {
	struct pt_ctx c;
	struct tables t;
};

static struct pt *pt_new(unsigned int max_level)
{
	struct pt *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	fmt.max_leaf_level = max_level_now = max_level;
	format_misuse = 0;
	p->t.budget = -1;
	p->c = (struct pt_ctx){ .fmt = &fmt, .alloc_table = alloc_table,
				.table_va = table_va, .arg = &p->t };
	assert_int_equal(pt_init(&p->c), 0);
	return p;
}

static void pt_free(struct pt *p)
{
	for (size_t i = 0; i < p->t.n; i++)
		free(p->t.v[i]);
	free(p->t.v);
	free(p);
}

/* ---- the model ---- */

#define ABSENT 0
#define PRESENT BIT(15)
#define PERMS (PT_R | PT_W | PT_X | PT_USER | PT_GLOBAL)

/* What a page should be: 0, or PRESENT | permissions | type << 8. */
static u16 code_of(u64 attr)
{
	if (!(attr & PT_R))
		return ABSENT;
	return (u16)(PRESENT | (attr & PERMS) | PT_MEMTYPE_OF(attr) << 8);
}

struct model {
	u64 limit;   /* bytes, page aligned */
	size_t npages;
	u16 *page;
};

/* MTRR types as the SDM gives them, written independently of mtrr.c:
 * fixed ranges below 1 MiB when enabled, else the variable ranges that
 * match (UC over all, WT over WB, other mixes undefined: UC), else the
 * default type. */
static u8 ref_type(const struct mtrr_state *s, u64 pa)
{
	if (!s->enabled)
		return MT_UC;
	if (s->fixed_enabled && pa < 0x100000) {
		if (pa < 0x80000)
			return s->fixed[pa >> 16];
		if (pa < 0xc0000)
			return s->fixed[8 + ((pa - 0x80000) >> 14)];
		return s->fixed[24 + ((pa - 0xc0000) >> 12)];
	}
	unsigned int seen = 0;
	for (unsigned int i = 0; i < s->nvar; i++) {
		const struct mtrr_var *v = &s->var[i];
		if (v->valid && !((pa ^ v->base) & v->mask & s->phys_mask))
			seen |= 1u << v->type;
	}
	if (!seen)
		return s->def_type;
	if (!(seen & (seen - 1)))
		return (u8)__builtin_ctz(seen);
	if (seen == (1u << MT_WT | 1u << MT_WB))
		return MT_WT;
	return MT_UC;
}

static void model_init(struct model *m, const struct nested_map_desc *d)
{
	m->limit = d->limit;
	m->npages = d->limit / PAGE_SIZE;
	m->page = calloc(m->npages ? m->npages : 1, sizeof(u16));
	assert_non_null(m->page);
	for (size_t p = 0; p < m->npages; p++)
		m->page[p] = code_of(d->attr | PT_R | PT_MEMTYPE(ref_type(d->mtrr, p * PAGE_SIZE)));
	if (!(d->attr & PT_R))
		memset(m->page, 0, m->npages * sizeof(u16));
	for (unsigned int i = 0; i < d->nholes; i++)
		for (u64 a = d->holes[i].base; a < d->holes[i].base + d->holes[i].size &&
		     a < d->limit; a += PAGE_SIZE)
			m->page[a / PAGE_SIZE] = ABSENT;
}

/* Fewest leaves covering the present pages, each leaf uniform: split
 * every maximal uniform run greedily into the largest aligned pages. */
static void optimum(const struct model *m, unsigned int max_level, unsigned long n[4])
{
	memset(n, 0, 4 * sizeof(n[0]));
	for (size_t p = 0; p < m->npages;) {
		size_t q = p;
		while (q < m->npages && m->page[q] == m->page[p])
			q++;
		for (size_t a = p; m->page[p] != ABSENT && a < q;) {
			unsigned int l = max_level;
			size_t len;
			for (;; l--) {
				len = (size_t)1 << (9 * (l - 1));
				if (l == 1 || (a % len == 0 && a + len <= q))
					break;
			}
			n[l]++;
			a += len;
		}
		p = q;
	}
}

/* ---- checking a table against the model ---- */

struct walk {
	const struct model *m;
	unsigned long leaves[4];
	size_t mapped_pages;
	unsigned long errors;
};

static void walk_error(struct walk *w, u64 va, unsigned int level, const char *what)
{
	if (w->errors++ < 5)
		printf("# leaf at %#llx, level %u: %s\n", (unsigned long long)va, level, what);
}

static void check_leaf(struct walk *w, u64 va, unsigned int level, u64 e)
{
	u64 size = PT_LEVEL_SIZE(level);
	u16 code = code_of(t_leaf_attr(e, level));

	w->leaves[level]++;
	if ((e & E_ADDR & ~(size - 1)) != va)
		walk_error(w, va, level, "does not map itself");
	if (va + size > w->m->limit) {
		walk_error(w, va, level, "past the limit");
		return;
	}
	for (u64 p = va / PAGE_SIZE; p < (va + size) / PAGE_SIZE; p++) {
		if (w->m->page[p] != code) {
			if (w->m->page[p] == ABSENT)
				walk_error(w, va, level, "covers a hole");
			else
				walk_error(w, va, level, "wrong type or permissions");
			return;
		}
	}
	w->mapped_pages += size / PAGE_SIZE;
}

static void walk_table(struct walk *w, const u64 *t, unsigned int level, u64 base)
{
	for (unsigned int i = 0; i < 512; i++) {
		u64 va = base + i * PT_LEVEL_SIZE(level);
		if (!t_present(t[i]))
			continue;
		if (t_is_leaf(t[i], level))
			check_leaf(w, va, level, t[i]);
		else
			walk_table(w, table_va(NULL, t[i] & E_ADDR), level - 1, va);
	}
}

static size_t present_pages(const struct model *m)
{
	size_t n = 0;

	for (size_t p = 0; p < m->npages; p++)
		n += m->page[p] != ABSENT;
	return n;
}

static u64 rng_state = 0xa4093822299f31d0ull;

static u64 rnd(void)
{
	return host_rand(&rng_state);
}

static void check_lookup(struct pt *pt, const struct model *m, u64 va)
{
	u64 e = 0, pa = 0;
	unsigned int level = pt_lookup(&pt->c, va, &e, &pa);
	u16 want = va < m->limit ? m->page[va / PAGE_SIZE] : ABSENT;

	if (want == ABSENT) {
		assert_int_equal(level, 0);
		return;
	}
	assert_true(level >= 1 && level <= fmt.max_leaf_level);
	assert_int_equal(pa, va);
	assert_int_equal(code_of(t_leaf_attr(e, level)), want);
}

/* Everything about the table: leaves against the model, coverage, the
 * optimum, pt_count_leaves, lookups. Returns the leaves per level. */
static void check_all(struct pt *pt, const struct model *m, unsigned long n[4])
{
	struct walk w = { .m = m };
	unsigned long best[4], counted[4];

	walk_table(&w, table_va(NULL, pt->c.root_pa), PT_LEVELS, 0);
	assert_int_equal(w.errors, 0);
	assert_int_equal(format_misuse, 0);
	assert_int_equal(w.mapped_pages, present_pages(m));
	optimum(m, fmt.max_leaf_level, best);
	if (memcmp(best, w.leaves, sizeof(best)))
		printf("# leaves 1G/2M/4K: %lu/%lu/%lu, optimum %lu/%lu/%lu\n",
		       w.leaves[3], w.leaves[2], w.leaves[1], best[3], best[2], best[1]);
	assert_memory_equal(best, w.leaves, sizeof(best));
	pt_count_leaves(&pt->c, 0, m->limit, counted);
	assert_memory_equal(counted + 1, w.leaves + 1, 3 * sizeof(counted[0]));
	for (int i = 0; i < 2000; i++)
		check_lookup(pt, m, (rnd() % (m->limit + GiB)) & ~7ull);
	if (n)
		memcpy(n, w.leaves, sizeof(w.leaves));
}

/* Build the map of d and check it; returns the table (to change further). */
static struct pt *build(const struct nested_map_desc *d, unsigned int max_level,
			struct model *m, unsigned long n[4])
{
	struct pt *pt = pt_new(max_level);

	model_init(m, d);
	assert_int_equal(nested_map_build(&pt->c, d), 0);
	check_all(pt, m, n);
	/* The estimate is exact where no whole GiB (or 512 GiB) lies in a
	 * hole, as in every scenario here; above, it counts those too. */
	assert_int_equal(nested_map_tables(d, max_level), pt->c.tables);
	return pt;
}

static void build_and_check(const struct nested_map_desc *d, unsigned int max_level,
			    unsigned long n[4])
{
	struct model m;

	pt_free(build(d, max_level, &m, n));
	free(m.page);
}

/* ---- MTRR settings ---- */

#define PHYS_BITS 36
#define PHYS_MASK (((1ull << PHYS_BITS) - 1) & ~0xfffull)
#define NA (PT_RWX | PT_USER) /* permissions of the nested map */

static void set_var(struct mtrr_state *s, u64 base, u64 size, u8 type)
{
	s->var[s->nvar++] = (struct mtrr_var){
		.base = base, .mask = ~(size - 1) & PHYS_MASK, .type = type, .valid = true,
	};
}

static void set_fixed(struct mtrr_state *s, u64 from, u64 to, u8 type)
{
	for (u64 a = from; a < to; a += PAGE_SIZE) {
		unsigned int i = a < 0x80000 ? a >> 16 :
				 a < 0xc0000 ? 8 + ((a - 0x80000) >> 14) :
					       24 + ((a - 0xc0000) >> 12);
		s->fixed[i] = type;
	}
}

static struct mtrr_state flat(u8 type)
{
	return (struct mtrr_state){ .enabled = true, .def_type = type, .phys_mask = PHYS_MASK };
}

/* A PC: fixed ranges for the legacy area, WB RAM to 8 GiB, the PCI hole
 * at 3 GiB uncached, default UC. */
static struct mtrr_state pc(void)
{
	struct mtrr_state s = flat(MT_UC);

	s.fixed_enabled = true;
	set_fixed(&s, 0, 0xa0000, MT_WB);
	set_fixed(&s, 0xa0000, 0xc0000, MT_UC);
	set_fixed(&s, 0xc0000, 0xc8000, MT_WP);
	set_fixed(&s, 0xc8000, 0xe0000, MT_UC);
	set_fixed(&s, 0xe0000, 0x100000, MT_WP);
	set_var(&s, 0, 8 * GiB, MT_WB);
	set_var(&s, 0xc0000000, GiB, MT_UC);
	return s;
}

/* ---- scenarios ---- */

static void test_flat(void **state)
{
	struct mtrr_state s = flat(MT_WB);
	struct nested_map_desc d = { .limit = 4 * GiB, .mtrr = &s, .attr = NA };
	unsigned long n[4];

	build_and_check(&d, 3, n);
	assert_true(n[3] == 4 && n[2] == 0 && n[1] == 0);
	build_and_check(&d, 2, n);
	assert_true(n[3] == 0 && n[2] == 2048 && n[1] == 0);
	/* Other permissions, and not a multiple of 1 GiB. */
	d.attr = PT_R | PT_X;
	d.limit = 5 * GiB + 6 * MiB + 20 * PAGE_SIZE;
	build_and_check(&d, 3, n);
	assert_true(n[3] == 5 && n[2] == 3 && n[1] == 20);
}

static void test_pc_home_aligned(void **state)
{
	struct mtrr_state s = pc();
	/* lamina's home: 32 MiB at the top of RAM, 2 MiB aligned. */
	const struct mem_range holes[] = { { 0x17e000000, 0x2000000, MEM_RESERVED } };
	struct nested_map_desc d = { .limit = 6 * GiB, .holes = holes, .nholes = 1,
				     .mtrr = &s, .attr = NA };
	unsigned long n[4];

	build_and_check(&d, 3, n);
	/* 1 GiB pages at 1, 2, 3 (UC) and 4 GiB; the first GiB is split
	 * for the legacy area, the last for the home. */
	assert_int_equal(n[3], 4);
	assert_int_equal(n[2], 511 + 496);
	/* The first 2 MiB hold the legacy area's types: 4 KiB pages. */
	assert_int_equal(n[1], 512);
	build_and_check(&d, 2, NULL);
}

static void test_pc_home_unaligned(void **state)
{
	struct mtrr_state s = pc();
	/* Unsorted holes: the home not 2 MiB aligned, the local APIC page
	 * in the UC hole, a page at 0 and one straddling 3 GiB. */
	const struct mem_range holes[] = {
		{ 0x7f3f5000, 0x800000, MEM_RESERVED },
		{ 0xfee00000, 0x1000, MEM_RESERVED },
		{ 0, 0x1000, MEM_RESERVED },
		{ 0xbffff000, 0x2000, MEM_RESERVED },
		{ 0x100000000, 0, MEM_RESERVED }, /* empty */
	};
	struct nested_map_desc d = { .limit = 0x123456000, .holes = holes,
				     .nholes = ARRAY_SIZE(holes), .mtrr = &s, .attr = NA };

	build_and_check(&d, 3, NULL);
	build_and_check(&d, 2, NULL);
}

static void test_overlapping_var(void **state)
{
	struct mtrr_state s = flat(MT_UC);
	unsigned long n[4];

	set_var(&s, 0, 4 * GiB, MT_WB);
	set_var(&s, 0xe0000000, 256 * MiB, MT_UC);     /* UC inside WB: UC */
	set_var(&s, 4 * GiB, 4 * GiB, MT_WB);
	set_var(&s, 4 * GiB, GiB, MT_WT);              /* WT over WB: WT */
	set_var(&s, 5 * GiB, 512 * MiB, MT_WC);        /* WC over WB: UC */
	set_var(&s, 0x100000, 0x100000, MT_WP);        /* WP over WB: UC */
	set_var(&s, 0x400000, 0x200000, MT_UC);
	set_var(&s, 0x400000, 0x200000, MT_WT);        /* UC over WT */
	struct nested_map_desc d = { .limit = 9 * GiB, .mtrr = &s, .attr = NA };
	struct model m;
	struct pt *pt = build(&d, 3, &m, n);

	/* The reference and the table agree on the documented picks. */
	assert_int_equal(ref_type(&s, 0xe0001000), MT_UC);
	assert_int_equal(ref_type(&s, 4 * GiB + 0x1000), MT_WT);
	assert_int_equal(ref_type(&s, 5 * GiB), MT_UC);
	assert_int_equal(ref_type(&s, 0x100000), MT_UC);
	assert_int_equal(ref_type(&s, 0x400000), MT_UC);
	assert_int_equal(ref_type(&s, 8 * GiB), MT_UC);  /* default */
	assert_int_equal(ref_type(&s, 6 * GiB), MT_WB);
	u64 e;
	assert_int_equal(pt_lookup(&pt->c, 4 * GiB + 0x1000, &e, NULL), 3);
	assert_int_equal(PT_MEMTYPE_OF(t_leaf_attr(e, 3)), MT_WT);
	assert_int_equal(pt_lookup(&pt->c, 8 * GiB + 0x1000, &e, NULL), 3);
	assert_int_equal(PT_MEMTYPE_OF(t_leaf_attr(e, 3)), MT_UC);
	pt_free(pt);
	free(m.page);
}

static void test_mtrr_disabled(void **state)
{
	struct mtrr_state s = pc();
	unsigned long n[4];

	/* Disabled: everything UC, whatever the ranges say. */
	s.enabled = false;
	const struct mem_range holes[] = { { 0x40000000, 0x200000, MEM_RESERVED } };
	struct nested_map_desc d = { .limit = 4 * GiB, .holes = holes, .nholes = 1,
				     .mtrr = &s, .attr = NA };
	struct model m;
	struct pt *pt = build(&d, 3, &m, n);
	assert_true(n[3] == 3 && n[2] == 511 && n[1] == 0);
	u64 e;
	assert_int_equal(pt_lookup(&pt->c, 0xa0000, &e, NULL), 3);
	assert_int_equal(PT_MEMTYPE_OF(t_leaf_attr(e, 3)), MT_UC);
	pt_free(pt);
	free(m.page);
}

static void test_fixed_uniform(void **state)
{
	struct mtrr_state s = flat(MT_UC);
	unsigned long n[4];

	/* Fixed ranges enabled but all WB like the variable range above
	 * them: nothing to split, even the first GiB is one page. */
	s.fixed_enabled = true;
	set_fixed(&s, 0, 0x100000, MT_WB);
	set_var(&s, 0, 2 * GiB, MT_WB);
	struct nested_map_desc d = { .limit = 2 * GiB, .mtrr = &s, .attr = NA };
	build_and_check(&d, 3, n);
	assert_true(n[3] == 2 && n[2] == 0 && n[1] == 0);
	/* One 4 KiB fixed range different: 4 KiB pages around it only. */
	set_fixed(&s, 0xf0000, 0xf1000, MT_WP);
	build_and_check(&d, 3, n);
	assert_true(n[3] == 1 && n[2] == 511 && n[1] == 512);
	/* Fixed disabled: the variable ranges apply below 1 MiB too. */
	s.fixed_enabled = false;
	set_var(&s, 0xa0000, 0x20000, MT_UC);
	build_and_check(&d, 3, n);
	assert_true(n[3] == 1 && n[2] == 511 && n[1] == 512);
}

/* A mask need not be contiguous (SDM 11.11.3): base 0, UC, with bit 22
 * clear in the mask (bit 21 set) covers [0,2M), [4M,6M) and nothing else
 * below 2^36: [2M,4M) and [6M,8M) keep the default type. */
static void test_noncontiguous_mask(void **state)
{
	struct mtrr_state s = flat(MT_WB);
	u64 end;

	s.var[s.nvar++] = (struct mtrr_var){ .base = 0, .mask = 0xfffa00000ull,
					     .type = MT_UC, .valid = true };
	assert_int_equal(mtrr_type_run(&s, 0, GiB, &end), MT_UC);
	assert_int_equal(end, 2 * MiB);
	assert_int_equal(mtrr_type_run(&s, 2 * MiB, GiB, &end), MT_WB);
	assert_int_equal(end, 4 * MiB);
	assert_int_equal(mtrr_type_run(&s, 4 * MiB, GiB, &end), MT_UC);
	assert_int_equal(end, 6 * MiB);
	assert_int_equal(mtrr_type_run(&s, 6 * MiB, GiB, &end), MT_WB);
	assert_int_equal(end, GiB);
	/* From inside a piece, and with the lowest mask bits clear too:
	 * 0xfff9fe000 covers the 8 KiB at 0, 2M, 4M and 6M. */
	assert_int_equal(mtrr_type_run(&s, 5 * MiB, GiB, &end), MT_UC);
	assert_int_equal(end, 6 * MiB);
	s.var[0].mask = 0xfff9fe000ull;
	for (u64 at = 0; at < 8 * MiB; at += 2 * MiB) {
		assert_int_equal(mtrr_type_run(&s, at, GiB, &end), MT_UC);
		assert_int_equal(end, at + 8 * KiB);
		assert_int_equal(mtrr_type_run(&s, end, GiB, &end), MT_WB);
		assert_int_equal(end, at < 6 * MiB ? at + 2 * MiB : GiB);
	}
	struct nested_map_desc d = { .limit = 2 * GiB, .mtrr = &s, .attr = NA };
	build_and_check(&d, 3, NULL);
	/* A second range, above the first: [32M,40M) at every 1G step */
	s.var[s.nvar++] = (struct mtrr_var){ .base = 32 * MiB, .mask = 0xc3f800000ull,
					     .type = MT_WT, .valid = true };
	d.limit = 5 * GiB;
	build_and_check(&d, 3, NULL);
}

/* The snapshot from MSR values, as mtrr_read() fills it. */
static void test_set_msr(void **state)
{
	struct mtrr_state s;

	mtrr_state_init(&s, 0x508, PHYS_BITS); /* WC, FIX, 8 pairs */
	assert_int_equal(s.nvar, 8);
	assert_true(s.has_fixed && !s.enabled && !s.fixed_enabled);
	assert_int_equal(s.phys_mask, PHYS_MASK);
	assert_int_equal(mtrr_set_msr(&s, 0x2ff, 0xc06), 0);
	assert_true(s.enabled && s.fixed_enabled);
	assert_int_equal(s.def_type, MT_WB);
	assert_int_equal(mtrr_set_msr(&s, 0x20e, 0x80000001), 0);
	assert_int_equal(mtrr_set_msr(&s, 0x20f, 0xfc0000800), 0);
	assert_true(s.var[7].valid && s.var[7].type == MT_WC);
	assert_int_equal(s.var[7].base, 0x80000000);
	assert_int_equal(s.var[7].mask, 0xfc0000000);
	/* AMD's RdMem/WrMem bits (3, 4) are not part of the type. */
	assert_int_equal(mtrr_set_msr(&s, 0x259, 0x1e1e1e1e05050000ull), 0);
	assert_int_equal(s.fixed[16], MT_UC);
	assert_int_equal(s.fixed[18], MT_WP);
	assert_int_equal(s.fixed[23], MT_WB);
	assert_int_equal(mtrr_set_msr(&s, 0x26f, 0x0606060606060606ull), 0);
	assert_int_equal(s.fixed[87], MT_WB);
	/* Not in this snapshot: pair 8, PAT, the gap between the fixed MSRs;
	 * fixed ranges on a CPU without them. */
	assert_int_equal(mtrr_set_msr(&s, 0x210, 0), -1);
	assert_int_equal(mtrr_set_msr(&s, 0x277, 0), -1);
	assert_int_equal(mtrr_set_msr(&s, 0x25a, 0), -1);
	mtrr_state_init(&s, 0x0a, PHYS_BITS);
	assert_int_equal(mtrr_set_msr(&s, 0x250, 0), -1);
	assert_int_equal(mtrr_set_msr(&s, 0x2ff, 0xc00), 0);
	assert_true(s.enabled && !s.fixed_enabled);
	assert_int_equal(mtrr_set_msr(&s, 0x213, 0x800), 0);
	assert_true(s.var[9].valid);
}

/* What the CPU refuses with #GP (SDM 11.11.2): reserved types (2, 3, 7
 * and above), reserved bits, address bits at or above MAXPHYADDR. */
static void test_value_reserved(void **state)
{
	struct mtrr_state s;

	mtrr_state_init(&s, 0x508, PHYS_BITS);
	for (u64 t = 0; t < 256; t++) {
		bool ok = t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
		assert_int_equal(mtrr_value_reserved(&s, 0x2ff, 0xc00 | t), !ok);
		assert_int_equal(mtrr_value_reserved(&s, 0x204, 0x100000 | t), !ok);
	}
	assert_false(mtrr_value_reserved(&s, 0x2ff, 0));
	assert_true(mtrr_value_reserved(&s, 0x2ff, 0x106));
	assert_true(mtrr_value_reserved(&s, 0x2ff, 0x1006));
	assert_true(mtrr_value_reserved(&s, 0x2ff, BIT(63) | 6));
	assert_false(mtrr_value_reserved(&s, 0x204, PHYS_MASK | 6));
	assert_true(mtrr_value_reserved(&s, 0x204, BIT(PHYS_BITS) | 6));
	assert_true(mtrr_value_reserved(&s, 0x204, 0x806));
	assert_false(mtrr_value_reserved(&s, 0x205, PHYS_MASK | 0x800));
	assert_false(mtrr_value_reserved(&s, 0x205, 0));
	assert_true(mtrr_value_reserved(&s, 0x205, BIT(PHYS_BITS) | 0x800));
	assert_true(mtrr_value_reserved(&s, 0x205, 0x801));
	assert_true(mtrr_value_reserved(&s, 0x205, 0x400));
}

/* ---- random scenarios ---- */

static const u8 types[] = { MT_UC, MT_WC, MT_WT, MT_WP, MT_WB, MT_WB, MT_WB };

static u8 rnd_type(void)
{
	return types[rnd() % ARRAY_SIZE(types)];
}

static void test_random(void **state)
{
	for (int iter = 0; iter < 24; iter++) {
		struct mtrr_state s = flat(rnd_type());
		struct mem_range holes[5];
		unsigned int nholes = (unsigned int)(rnd() % 6);

		s.enabled = rnd() % 8 != 0;
		s.fixed_enabled = rnd() % 2;
		for (unsigned int i = 0; i < MTRR_NFIXED;) {
			u8 t = rnd_type();
			for (unsigned int k = 1 + rnd() % 30; k-- && i < MTRR_NFIXED;)
				s.fixed[i++] = t;
		}
		for (unsigned int i = rnd() % 7; i--;) {
			u64 size = PAGE_SIZE << (rnd() % 21);  /* 4 KiB .. 4 GiB */
			set_var(&s, (rnd() % (6 * GiB)) & ~(size - 1), size, rnd_type());
			/* Now and then a hole in the mask: 2 or 4 blocks. */
			for (unsigned int k = rnd() % 3; k--;)
				s.var[s.nvar - 1].mask &= ~(size << (1 + rnd() % 12));
		}
		for (unsigned int i = 0; i < nholes; i++) {
			u64 align = rnd() % 2 ? 2 * MiB : PAGE_SIZE;
			holes[i] = (struct mem_range){ (rnd() % (5 * GiB)) & ~(align - 1),
						       (rnd() % (64 * MiB)) & ~(align - 1), 0 };
		}
		struct nested_map_desc d = {
			.limit = (GiB + rnd() % (5 * GiB)) & ~(PAGE_SIZE - 1),
			.holes = holes, .nholes = nholes, .mtrr = &s, .attr = NA,
		};
		build_and_check(&d, 2 + (unsigned int)(rnd() % 2), NULL);
	}
}

/* ---- how far the map reaches within a budget of tables ---- */

/* Flat, 64 GiB at most: 1 root, 1 PDPT, and without 1 GiB pages a PD per
 * GiB; with them, nothing more. */
static void test_limit_flat(void **state)
{
	struct mtrr_state s = flat(MT_WB);
	struct nested_map_desc d = { .limit = 64 * GiB, .mtrr = &s, .attr = NA };

	assert_int_equal(nested_map_tables(&d, 2), 66);
	assert_int_equal(nested_map_tables(&d, 3), 2);
	assert_int_equal(nested_map_limit(&d, 5 * GiB, 66, 2), 64 * GiB);
	assert_int_equal(nested_map_limit(&d, 5 * GiB, 65, 2), 63 * GiB);
	assert_int_equal(nested_map_limit(&d, 5 * GiB, 10, 2), 8 * GiB);
	assert_int_equal(nested_map_limit(&d, 5 * GiB, 7, 2), 5 * GiB);
	assert_int_equal(nested_map_limit(&d, 5 * GiB + 1, 7, 2), 0); /* needs 6 GiB */
	assert_int_equal(nested_map_limit(&d, 5 * GiB, 6, 2), 0);
	assert_int_equal(nested_map_limit(&d, 5 * GiB, 2, 3), 64 * GiB);
	/* Known past the whole map: the whole map, or nothing. */
	assert_int_equal(nested_map_limit(&d, 100 * GiB, 66, 2), 64 * GiB);
	assert_int_equal(nested_map_limit(&d, 100 * GiB, 65, 2), 0);
}

/* A PC's types and lamina's home below 4 GiB, a 46-bit address space
 * without 1 GiB pages (256 MiB of tables): each budget gives the most
 * GiBs whose tables fit, never fewer than the known ones, and a map
 * built to that limit fits the budget. */
static void test_limit_budgets(void **state)
{
	struct mtrr_state s = pc();
	const struct mem_range holes[] = { { 0x7e000000, 0x2000000, MEM_RESERVED } };
	struct nested_map_desc d = { .limit = 1ull << 46, .holes = holes, .nholes = 1,
				     .mtrr = &s, .attr = NA };
	static const unsigned long budgets[] = { 15, 20, 100, 3000, 65000 };
	const u64 known = 12 * GiB;

	/* Root, PDPTs, PDs, and a PT for the first 2 MiB (the fixed-range
	 * types); the home's edges are 2 MiB aligned. */
	assert_int_equal(nested_map_tables(&d, 2), 1 + 128 + 65536 + 1);
	assert_int_equal(nested_map_limit(&d, known, 14, 2), 0); /* 12 GiB need 15 */
	for (unsigned int i = 0; i < ARRAY_SIZE(budgets); i++) {
		u64 limit = nested_map_limit(&d, known, budgets[i], 2);
		struct nested_map_desc at = d, beyond = d;

		at.limit = limit;
		beyond.limit = limit + GiB;
		assert_true(limit >= known && limit % GiB == 0);
		assert_true(nested_map_tables(&at, 2) <= budgets[i]);
		assert_true(nested_map_tables(&beyond, 2) > budgets[i]);
	}
	d.limit = nested_map_limit(&d, known, 20, 2);
	struct pt *pt = pt_new(2);
	pt->t.budget = 20 - (long)pt->c.tables; /* the root is there already */
	assert_int_equal(nested_map_build(&pt->c, &d), 0);
	assert_true(pt->c.tables <= 20);
	pt_free(pt);
}

/* ---- changing pages later ---- */

static void protect(struct pt *pt, struct model *m, const struct nested_map_desc *d,
		    u64 pa, u64 size, u64 attr)
{
	assert_int_equal(nested_map_protect(&pt->c, d, pa, size, attr), 0);
	for (u64 a = pa; a < pa + size; a += PAGE_SIZE)
		m->page[a / PAGE_SIZE] = code_of(attr | PT_MEMTYPE(ref_type(d->mtrr, a)));
}

static void test_protect_splits_around(void **state)
{
	struct mtrr_state s = flat(MT_WB);
	struct nested_map_desc d = { .limit = 4 * GiB, .mtrr = &s, .attr = NA };
	struct model m;
	unsigned long n[4];
	struct pt *pt = build(&d, 3, &m, n);
	const u64 p = GiB + 0x12345000;
	u64 e, pa;

	/* One page read-only inside a 1 GiB page: 1 GiB -> 2 MiB pages,
	 * the one 2 MiB page around it -> 4 KiB pages. */
	protect(pt, &m, &d, p, PAGE_SIZE, PT_R | PT_USER);
	check_all(pt, &m, n);
	assert_true(n[3] == 3 && n[2] == 511 && n[1] == 512);
	assert_int_equal(pt_lookup(&pt->c, p + 0x123, &e, &pa), 1);
	assert_int_equal(pa, p + 0x123);
	assert_int_equal(t_leaf_attr(e, 1), PT_R | PT_USER | PT_MEMTYPE(MT_WB));
	assert_int_equal(pt_lookup(&pt->c, p - PAGE_SIZE, &e, &pa), 1);
	assert_int_equal(t_leaf_attr(e, 1), NA | PT_R | PT_MEMTYPE(MT_WB));
	assert_int_equal(pt_lookup(&pt->c, GiB, &e, &pa), 2);
	assert_int_equal(pt_lookup(&pt->c, 3 * GiB + 5, &e, &pa), 3);
	assert_int_equal(pa, 3 * GiB + 5);

	/* Another page of the same 2 MiB absent: no new split. */
	protect(pt, &m, &d, p + 7 * PAGE_SIZE, PAGE_SIZE, 0);
	check_all(pt, &m, n);
	assert_true(n[3] == 3 && n[2] == 511 && n[1] == 511);
	assert_int_equal(pt_lookup(&pt->c, p + 7 * PAGE_SIZE, &e, &pa), 0);

	/* A whole 2 MiB page in another GiB: only down to 2 MiB. */
	protect(pt, &m, &d, 2 * GiB + 6 * MiB, 2 * MiB, PT_R | PT_W);
	check_all(pt, &m, n);
	assert_true(n[3] == 2 && n[2] == 511 + 512 && n[1] == 511);

	/* Back to the original permissions: correct, if not re-merged. */
	protect(pt, &m, &d, p, PAGE_SIZE, NA);
	protect(pt, &m, &d, p + 7 * PAGE_SIZE, PAGE_SIZE, NA);
	struct walk w = { .m = &m };
	walk_table(&w, table_va(NULL, pt->c.root_pa), PT_LEVELS, 0);
	assert_int_equal(w.errors, 0);
	assert_int_equal(w.mapped_pages, present_pages(&m));
	pt_free(pt);
	free(m.page);
}

static void test_protect_keeps_types(void **state)
{
	struct mtrr_state s = pc();
	const struct mem_range holes[] = { { 0x17e000000, 0x2000000, MEM_RESERVED } };
	struct nested_map_desc d = { .limit = 6 * GiB, .holes = holes, .nholes = 1,
				     .mtrr = &s, .attr = NA };
	struct model m;
	struct pt *pt = build(&d, 3, &m, NULL);
	u64 e;

	/* Across the WB/UC boundary at 3 GiB, and across the legacy area:
	 * each page keeps its own type. */
	protect(pt, &m, &d, 3 * GiB - 3 * PAGE_SIZE, 6 * PAGE_SIZE, PT_R | PT_USER);
	protect(pt, &m, &d, 0x9e000, 0x30000, PT_R | PT_W | PT_USER);
	check_all(pt, &m, NULL);
	assert_int_equal(pt_lookup(&pt->c, 3 * GiB - PAGE_SIZE, &e, NULL), 1);
	assert_int_equal(PT_MEMTYPE_OF(t_leaf_attr(e, 1)), MT_WB);
	assert_int_equal(pt_lookup(&pt->c, 3 * GiB, &e, NULL), 1);
	assert_int_equal(PT_MEMTYPE_OF(t_leaf_attr(e, 1)), MT_UC);
	assert_int_equal(pt_lookup(&pt->c, 0xc1000, &e, NULL), 1);
	assert_int_equal(PT_MEMTYPE_OF(t_leaf_attr(e, 1)), MT_WP);
	pt_free(pt);
	free(m.page);
}

static void test_protect_random(void **state)
{
	struct mtrr_state s = pc();
	const struct mem_range holes[] = { { 0x13e000000, 0x2000000, MEM_RESERVED } };
	struct nested_map_desc d = { .limit = 5 * GiB, .holes = holes, .nholes = 1,
				     .mtrr = &s, .attr = NA };
	static const u64 attrs[] = { 0, PT_R, PT_R | PT_W, PT_R | PT_X | PT_USER, NA };
	struct model m;
	struct pt *pt = build(&d, 3, &m, NULL);

	for (int i = 0; i < 300; i++) {
		u64 size = (1 + rnd() % 600) * PAGE_SIZE;
		u64 pa = (rnd() % (0x13e000000 - size)) & ~(PAGE_SIZE - 1);
		if (i % 3 == 0) { /* 2 MiB aligned pieces too */
			pa &= ~(2 * MiB - 1);
			size = (1 + rnd() % 3) * 2 * MiB;
		}
		protect(pt, &m, &d, pa, size, attrs[rnd() % ARRAY_SIZE(attrs)]);
	}
	struct walk w = { .m = &m };
	walk_table(&w, table_va(NULL, pt->c.root_pa), PT_LEVELS, 0);
	assert_int_equal(w.errors, 0);
	assert_int_equal(format_misuse, 0);
	assert_int_equal(w.mapped_pages, present_pages(&m));
	for (int i = 0; i < 5000; i++)
		check_lookup(pt, &m, rnd() % (d.limit + GiB));
	pt_free(pt);
	free(m.page);
}

/* ---- the builder alone ---- */

static void test_pt_map_basics(void **state)
{
	struct pt *pt = pt_new(3);
	unsigned long n[4];
	u64 e, pa;

	/* va 2 MiB aligned, pa only 4 KiB aligned: 4 KiB pages. */
	assert_int_equal(pt_map(&pt->c, 2 * MiB, 2 * MiB + PAGE_SIZE, 2 * MiB, PT_R), 0);
	pt_count_leaves(&pt->c, 0, GiB, n);
	assert_true(n[3] == 0 && n[2] == 0 && n[1] == 512);
	assert_int_equal(pt_lookup(&pt->c, 2 * MiB + 0x10, &e, &pa), 1);
	assert_int_equal(pa, 2 * MiB + PAGE_SIZE + 0x10);
	/* The same range with a matching pa: one 2 MiB page replaces them. */
	assert_int_equal(pt_map(&pt->c, 2 * MiB, 4 * MiB, 2 * MiB, PT_R | PT_W), 0);
	pt_count_leaves(&pt->c, 0, GiB, n);
	assert_true(n[2] == 1 && n[1] == 0);
	assert_int_equal(pt_lookup(&pt->c, 3 * MiB + 5, &e, &pa), 2);
	assert_int_equal(pa, 5 * MiB + 5);
	/* Unmapping part of it splits it; the rest maps as before. */
	assert_int_equal(pt_map(&pt->c, 2 * MiB + 8 * PAGE_SIZE, 0, PAGE_SIZE, 0), 0);
	assert_int_equal(pt_lookup(&pt->c, 2 * MiB + 8 * PAGE_SIZE, &e, &pa), 0);
	assert_int_equal(pt_lookup(&pt->c, 2 * MiB + 9 * PAGE_SIZE + 1, &e, &pa), 1);
	assert_int_equal(pa, 4 * MiB + 9 * PAGE_SIZE + 1);
	assert_int_equal(t_leaf_attr(e, 1), PT_R | PT_W);
	pt_count_leaves(&pt->c, 0, GiB, n);
	assert_true(n[2] == 0 && n[1] == 511);
	/* Counting a part counts the leaves it touches. */
	pt_count_leaves(&pt->c, 2 * MiB + 9 * PAGE_SIZE + 1, 2 * PAGE_SIZE, n);
	assert_int_equal(n[1], 3);
	/* Not mapped at all, far away. */
	assert_int_equal(pt_lookup(&pt->c, 300 * GiB, &e, &pa), 0);
	assert_int_equal(format_misuse, 0);
	pt_free(pt);
}

static void test_upper_half(void **state)
{
	struct pt *pt = pt_new(2);
	const u64 kernel = 0xffffffff80000000ull, direct = 0xffff800000000000ull;
	unsigned long n[4];
	u64 e, pa;

	/* lamina's image at -2 GiB (the last slot of the root table) and a
	 * direct map at the start of the upper half. */
	assert_int_equal(pt_map(&pt->c, kernel, 16 * MiB, 4 * MiB + PAGE_SIZE,
				PT_R | PT_X | PT_GLOBAL), 0);
	assert_int_equal(pt_map(&pt->c, direct, 0, 8 * MiB, PT_R | PT_W), 0);
	assert_int_equal(pt_lookup(&pt->c, kernel + 4 * MiB + 0x10, &e, &pa), 1);
	assert_int_equal(pa, 20 * MiB + 0x10);
	assert_int_equal(pt_lookup(&pt->c, kernel + MiB, &e, &pa), 2);
	assert_int_equal(pa, 17 * MiB);
	assert_int_equal(t_leaf_attr(e, 2), PT_R | PT_X | PT_GLOBAL);
	pt_count_leaves(&pt->c, kernel, 4 * MiB + PAGE_SIZE, n);
	assert_true(n[2] == 2 && n[1] == 1);
	/* A range running to the very top of the address space. */
	pt_count_leaves(&pt->c, kernel, 2 * GiB, n);
	assert_true(n[2] == 2 && n[1] == 1);
	pt_count_leaves(&pt->c, direct, 8 * MiB, n);
	assert_true(n[2] == 4 && n[1] == 0);
	/* The lower half has none of them. */
	pt_count_leaves(&pt->c, 0, 1ull << 47, n);
	assert_true(n[2] == 0 && n[1] == 0);
	assert_int_equal(format_misuse, 0);
	pt_free(pt);
}

static void test_out_of_memory(void **state)
{
	struct mtrr_state s = pc();
	struct nested_map_desc d = { .limit = 4 * GiB, .mtrr = &s, .attr = NA };
	struct pt *pt = pt_new(3);
	unsigned long need = pt->c.tables;

	/* How many tables a full build takes, then every shorter budget
	 * fails cleanly. */
	assert_int_equal(nested_map_build(&pt->c, &d), 0);
	need = pt->c.tables - need;
	assert_int_equal(pt->c.tables, pt->t.n);
	pt_free(pt);
	for (unsigned long budget = 0; budget < need; budget++) {
		pt = pt_new(3);
		pt->t.budget = (long)budget;
		assert_int_equal(nested_map_build(&pt->c, &d), -1);
		assert_int_equal(pt->c.tables, pt->t.n);
		pt_free(pt);
	}
	pt = pt_new(3);
	pt->t.budget = 0;
	assert_int_equal(pt_map(&pt->c, 0, 0, PAGE_SIZE, PT_R), -1);
	pt_free(pt);
	struct tables t = { .budget = 0 };
	struct pt_ctx c = { .fmt = &fmt, .alloc_table = alloc_table, .table_va = table_va,
			    .arg = &t };
	assert_int_equal(pt_init(&c), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flat),
		cmocka_unit_test(test_pc_home_aligned),
		cmocka_unit_test(test_pc_home_unaligned),
		cmocka_unit_test(test_overlapping_var),
		cmocka_unit_test(test_mtrr_disabled),
		cmocka_unit_test(test_fixed_uniform),
		cmocka_unit_test(test_noncontiguous_mask),
		cmocka_unit_test(test_set_msr),
		cmocka_unit_test(test_value_reserved),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_limit_flat),
		cmocka_unit_test(test_limit_budgets),
		cmocka_unit_test(test_protect_splits_around),
		cmocka_unit_test(test_protect_keeps_types),
		cmocka_unit_test(test_protect_random),
		cmocka_unit_test(test_pt_map_basics),
		cmocka_unit_test(test_upper_half),
		cmocka_unit_test(test_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
