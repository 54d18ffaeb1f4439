/* core/memmap.c: sanitizing firmware maps, carving ranges, finding free
 * space. Directed cases, and random maps checked against a brute-force
 * model that keeps one type per 4 KiB page of a small address space. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <core/memmap.h>

#include "host_env.h"

#define R(b, s, t) { (b), (s), (t) }
#define EXPECT_MAP(m, ...)                                            \
	do {                                                          \
		const struct mem_range want_[] = { __VA_ARGS__ };     \
		expect_map((m), want_, ARRAY_SIZE(want_));            \
	} while (0)

#define TOP (~0ull) /* 2^64 - 1 */

static void print_map(const char *what, const struct mem_range *r, unsigned int n)
{
	printf("# %s (%u ranges):\n", what, n);
	for (unsigned int i = 0; i < n; i++)
		printf("#   [%#llx, +%#llx) type %u\n", (unsigned long long)r[i].base,
		       (unsigned long long)r[i].size, r[i].type);
}

static void expect_map(const struct memmap *m, const struct mem_range *want,
		       unsigned int n)
{
	bool same = m->n == n;

	for (unsigned int i = 0; same && i < n; i++)
		same = m->r[i].base == want[i].base && m->r[i].size == want[i].size &&
		       m->r[i].type == want[i].type;
	if (!same) {
		print_map("got", m->r, m->n);
		print_map("want", want, n);
	}
	assert_true(same);
}

/* What sanitize promises: sorted, disjoint, non-empty, not wrapping past
 * 2^64, neighbours of one type merged. */
static void assert_sanitized(const struct memmap *m)
{
	for (unsigned int i = 0; i < m->n; i++) {
		const struct mem_range *r = &m->r[i];
		assert_true(r->size > 0);
		assert_true(r->base + r->size > r->base);
		if (i) {
			const struct mem_range *p = &m->r[i - 1];
			assert_true(p->base + p->size <= r->base);
			assert_false(p->base + p->size == r->base && p->type == r->type);
		}
	}
}

static struct memmap *new_map(void)
{
	static struct memmap m;

	memset(&m, 0xa5, sizeof(m));
	m.n = 0;
	m.lost = false;
	return &m;
}

/* ---- directed: sanitize ---- */

static void test_sanitize_empty(void **state)
{
	struct memmap *m = new_map();

	assert_int_equal(memmap_sanitize(m), 0);
	memmap_add(m, 0x1000, 0, MEM_USABLE);
	memmap_add(m, 0, 0, MEM_RESERVED);
	assert_int_equal(memmap_sanitize(m), 0);
	assert_int_equal(m->n, 0);
}

static void test_sanitize_sorts_and_merges(void **state)
{
	struct memmap *m = new_map();

	memmap_add(m, 0x100000, 0x100000, MEM_USABLE);
	memmap_add(m, 0x300000, 0x1000, MEM_USABLE);     /* after a gap */
	memmap_add(m, 0, 0x9f000, MEM_USABLE);
	memmap_add(m, 0x200000, 0x100000, MEM_USABLE);   /* adjacent */
	memmap_add(m, 0xf0000, 0x10000, MEM_RESERVED);
	memmap_add(m, 0x9f000, 0x1000, MEM_RESERVED);
	memmap_add(m, 0x301000, 0x1000, MEM_ACPI);       /* adjacent, other type */
	assert_int_equal(memmap_sanitize(m), 5);
	EXPECT_MAP(m, R(0, 0x9f000, MEM_USABLE), R(0x9f000, 0x1000, MEM_RESERVED),
		   R(0xf0000, 0x10000, MEM_RESERVED), R(0x100000, 0x201000, MEM_USABLE),
		   R(0x301000, 0x1000, MEM_ACPI));
}

static void test_sanitize_partial_overlap(void **state)
{
	struct memmap *m = new_map();

	/* Usable running into a reserved range: the reserved part wins. */
	memmap_add(m, 0, 0xa0000, MEM_USABLE);
	memmap_add(m, 0x9fc00, 0x60400, MEM_RESERVED);
	/* Reserved overlapped on its other side by usable. */
	memmap_add(m, 0x100000, 0x10000, MEM_RESERVED);
	memmap_add(m, 0x108000, 0x100000, MEM_USABLE);
	memmap_sanitize(m);
	EXPECT_MAP(m, R(0, 0x9fc00, MEM_USABLE), R(0x9fc00, 0x70400, MEM_RESERVED),
		   R(0x110000, 0xf8000, MEM_USABLE));
}

static void test_sanitize_containment(void **state)
{
	struct memmap *m = new_map();

	memmap_add(m, 0, 0x40000000, MEM_USABLE);
	memmap_add(m, 0x1000000, 0x2000, MEM_NVS);        /* inside */
	memmap_add(m, 0x3000000, 0x1000, MEM_ACPI);       /* inside */
	memmap_add(m, 0x3000000, 0x1000, MEM_USABLE);     /* duplicate, loses */
	memmap_add(m, 0x20000000, 0x40000000, MEM_USABLE); /* sticks out */
	memmap_sanitize(m);
	EXPECT_MAP(m, R(0, 0x1000000, MEM_USABLE), R(0x1000000, 0x2000, MEM_NVS),
		   R(0x1002000, 0x1ffe000, MEM_USABLE), R(0x3000000, 0x1000, MEM_ACPI),
		   R(0x3001000, 0x5cfff000, MEM_USABLE));
	/* Usable inside reserved changes nothing. */
	m = new_map();
	memmap_add(m, 0, 0x10000, MEM_RESERVED);
	memmap_add(m, 0x4000, 0x1000, MEM_USABLE);
	memmap_sanitize(m);
	EXPECT_MAP(m, R(0, 0x10000, MEM_RESERVED));
}

/* Two ranges over the same bytes: the more restrictive type wins, in the
 * order the header gives (bad, reserved, NVS, ACPI, unknown, usable),
 * whichever comes first in the input. */
static void test_sanitize_type_precedence(void **state)
{
	static const u32 order[] = { MEM_BAD, MEM_RESERVED, MEM_NVS, MEM_ACPI,
				     12 /* unknown */, MEM_USABLE };

	for (unsigned int i = 0; i < ARRAY_SIZE(order); i++) {
		for (unsigned int j = i + 1; j < ARRAY_SIZE(order); j++) {
			for (int swap = 0; swap < 2; swap++) {
				struct memmap *m = new_map();
				u32 a = swap ? order[j] : order[i];
				u32 b = swap ? order[i] : order[j];
				memmap_add(m, 0x5000, 0x3000, a);
				memmap_add(m, 0x5000, 0x3000, b);
				memmap_sanitize(m);
				EXPECT_MAP(m, R(0x5000, 0x3000, order[i]));
				/* Overlapping by one page only. */
				m = new_map();
				memmap_add(m, 0x5000, 0x3000, a);
				memmap_add(m, 0x7000, 0x3000, b);
				memmap_sanitize(m);
				if (a == order[i])
					EXPECT_MAP(m, R(0x5000, 0x3000, a), R(0x8000, 0x2000, b));
				else
					EXPECT_MAP(m, R(0x5000, 0x2000, a), R(0x7000, 0x3000, b));
			}
		}
	}
	/* MEM_PMEM counts as unknown: above usable, below ACPI. */
	struct memmap *m = new_map();
	memmap_add(m, 0, 0x2000, MEM_USABLE);
	memmap_add(m, 0, 0x2000, MEM_PMEM);
	memmap_add(m, 0x1000, 0x2000, MEM_ACPI);
	memmap_sanitize(m);
	EXPECT_MAP(m, R(0, 0x1000, MEM_PMEM), R(0x1000, 0x2000, MEM_ACPI));
}

/* An e820 type of 0 is no type at all: reserved, as Linux takes it, in
 * whichever order it comes. */
static void test_sanitize_type_zero_is_reserved(void **state)
{
	for (int swap = 0; swap < 2; swap++) {
		struct memmap *m = new_map();
		if (swap)
			memmap_add(m, 0x1000, 0x1000, 0);
		memmap_add(m, 0, 0x4000, MEM_USABLE);
		if (!swap)
			memmap_add(m, 0x1000, 0x1000, 0);
		memmap_sanitize(m);
		EXPECT_MAP(m, R(0, 0x1000, MEM_USABLE), R(0x1000, 0x1000, MEM_RESERVED),
			   R(0x2000, 0x2000, MEM_USABLE));
	}
}

/* More pieces than the map holds: usable ones are left out from the top
 * until the rest fits, and the map says it lost them. */
static void test_sanitize_overflow_is_reported(void **state)
{
	struct memmap *m = new_map();

	memmap_add(m, 0, MEMMAP_MAX * 0x2000ull, MEM_USABLE);
	for (unsigned int i = 0; i < MEMMAP_MAX - 1; i++)
		memmap_add(m, i * 0x2000ull + 0x1000, 0x1000, MEM_RESERVED);
	assert_false(m->lost);
	memmap_sanitize(m); /* 128 usable pieces between 127 reserved ones */
	assert_int_equal(m->n, MEMMAP_MAX);
	assert_true(m->lost);
	assert_sanitized(m);
	assert_true(m->r[0].base == 0 && m->r[0].size == 0x1000 && m->r[0].type == MEM_USABLE);
	for (unsigned int i = 1; i < MEMMAP_MAX; i++) {
		assert_int_equal(m->r[i].base, (i - 1) * 0x2000ull + 0x1000);
		assert_int_equal(m->r[i].type, MEM_RESERVED);
	}
	/* And appending to a full map loses the range, said so too. */
	m = new_map();
	for (unsigned int i = 0; i <= MEMMAP_MAX; i++)
		memmap_add(m, i * 0x2000ull, 0x1000, MEM_USABLE);
	assert_int_equal(m->n, MEMMAP_MAX);
	assert_true(m->lost);
}

/* More firmware entries than the sanitized map holds, merging to fewer:
 * every entry counts, also a reserved one the firmware lists last over
 * usable RAM it listed first. */
static void test_raw_map_resolved_before_cut(void **state)
{
	static struct memmap_raw raw;
	struct memmap *m = new_map();

	raw.n = raw.lost = 0;
	for (unsigned int i = 0; i < 3 * MEMMAP_MAX; i++) /* 1 MiB of usable 4 KiB pieces */
		memmap_raw_add(&raw, i * 0x1000ull, 0x1000, MEM_USABLE);
	memmap_raw_add(&raw, 0x10000, 0x2000, MEM_RESERVED);
	assert_int_equal(memmap_from_raw(m, &raw), 0);
	assert_false(m->lost);
	EXPECT_MAP(m, R(0, 0x10000, MEM_USABLE), R(0x10000, 0x2000, MEM_RESERVED),
		   R(0x12000, 3 * MEMMAP_MAX * 0x1000ull - 0x12000, MEM_USABLE));

	/* Past MEMMAP_RAW_MAX, entries are counted as lost. */
	while (raw.n < MEMMAP_RAW_MAX)
		memmap_raw_add(&raw, 0, 0x1000, MEM_USABLE);
	memmap_raw_add(&raw, 0, 0x1000, MEM_RESERVED);
	assert_int_equal(raw.lost, 1);
}

/* Too many pieces even after merging: usable RAM goes first, from the
 * top; the reserved ranges all stay. */
static void test_raw_map_too_many_loses_usable_top(void **state)
{
	static struct memmap_raw raw;
	struct memmap *m = new_map();
	const unsigned int pairs = MEMMAP_MAX; /* 256 pieces */

	raw.n = raw.lost = 0;
	for (unsigned int i = 0; i < pairs; i++) {
		memmap_raw_add(&raw, i * 0x2000ull, 0x1000, MEM_RESERVED);
		memmap_raw_add(&raw, i * 0x2000ull + 0x1000, 0x1000, MEM_USABLE);
	}
	assert_int_equal(memmap_from_raw(m, &raw), MEMMAP_MAX);
	assert_true(m->lost);
	assert_int_equal(m->n, MEMMAP_MAX);
	for (unsigned int i = 0; i < MEMMAP_MAX; i++) {
		assert_int_equal(m->r[i].base, i * 0x2000ull);
		assert_int_equal(m->r[i].type, MEM_RESERVED);
	}
}

static void test_clip(void **state)
{
	struct memmap *m = new_map();

	memmap_add(m, 0, 0x9f000, MEM_USABLE);
	memmap_add(m, 0x100000, 0x3ff00000, MEM_USABLE);
	memmap_add(m, 0xfec00000, 0x1000, MEM_RESERVED);
	memmap_add(m, 0x100000000ull, 0x40000000, MEM_USABLE);
	memmap_add(m, TOP - 0xfffffff, 0x10000000, MEM_USABLE);
	memmap_sanitize(m);
	assert_int_equal(m->n, 5);
	assert_true(memmap_clip(m, 1ull << 46)); /* a whole range above */
	EXPECT_MAP(m, R(0, 0x9f000, MEM_USABLE), R(0x100000, 0x3ff00000, MEM_USABLE),
		   R(0xfec00000, 0x1000, MEM_RESERVED), R(0x100000000ull, 0x40000000, MEM_USABLE));
	assert_true(memmap_clip(m, 0x120000000ull)); /* through a range */
	EXPECT_MAP(m, R(0, 0x9f000, MEM_USABLE), R(0x100000, 0x3ff00000, MEM_USABLE),
		   R(0xfec00000, 0x1000, MEM_RESERVED), R(0x100000000ull, 0x20000000, MEM_USABLE));
	assert_false(memmap_clip(m, 0x120000000ull)); /* at an end: nothing to cut */
	assert_true(memmap_clip(m, 0x100000)); /* at a start */
	EXPECT_MAP(m, R(0, 0x9f000, MEM_USABLE));
	assert_true(memmap_clip(m, 0));
	assert_int_equal(m->n, 0);
}

static void test_sanitize_unaligned(void **state)
{
	struct memmap *m = new_map();

	memmap_add(m, 0x123, 0x1000, MEM_USABLE);
	memmap_add(m, 0x1000, 0x10, MEM_RESERVED);
	memmap_add(m, 0x1123, 1, MEM_USABLE); /* touching the first */
	memmap_sanitize(m);
	EXPECT_MAP(m, R(0x123, 0xedd, MEM_USABLE), R(0x1000, 0x10, MEM_RESERVED),
		   R(0x1010, 0x114, MEM_USABLE));
}

static void test_sanitize_wrap(void **state)
{
	struct memmap *m = new_map();

	/* Runs past 2^64: clipped there, and in particular it does not
	 * wrap around onto low memory. */
	memmap_add(m, 0, 0x100000, MEM_USABLE);
	memmap_add(m, TOP - 0xfff, 0x3000, MEM_RESERVED);
	memmap_add(m, TOP - 0x10fff, 0x10000, MEM_USABLE);
	memmap_sanitize(m);
	assert_sanitized(m);
	assert_int_equal(m->n, 3);
	assert_true(m->r[0].base == 0 && m->r[0].size == 0x100000 &&
		    m->r[0].type == MEM_USABLE);
	assert_true(m->r[1].base == TOP - 0x10fff && m->r[1].size == 0x10000 &&
		    m->r[1].type == MEM_USABLE);
	assert_true(m->r[2].base == TOP - 0xfff && m->r[2].type == MEM_RESERVED);
	/* It reaches the top (2^64 exclusive, or its last byte less). */
	assert_true(m->r[2].size == 0x1000 || m->r[2].size == 0xfff);

	/* The whole address space, and a range entirely at the last byte. */
	m = new_map();
	memmap_add(m, 0x1000, TOP, MEM_USABLE);
	memmap_add(m, TOP, 1, MEM_RESERVED);
	memmap_add(m, 0, 0x1000, MEM_RESERVED);
	memmap_sanitize(m);
	assert_sanitized(m);
	assert_true(m->n >= 2 && m->n <= 3);
	assert_true(m->r[0].base == 0 && m->r[0].size == 0x1000 &&
		    m->r[0].type == MEM_RESERVED);
	assert_true(m->r[1].base == 0x1000 && m->r[1].type == MEM_USABLE &&
		    m->r[1].size >= TOP - 0x1000);
}

/* ---- directed: set ---- */

/* A typical small PC: low RAM, the legacy hole, RAM to 2 GiB less the
 * ACPI tables, the PCI hole, RAM above 4 GiB. */
static struct memmap *pc_map(void)
{
	struct memmap *m = new_map();

	memmap_add(m, 0, 0x9fc00, MEM_USABLE);
	memmap_add(m, 0x9fc00, 0x400, MEM_RESERVED);
	memmap_add(m, 0xf0000, 0x10000, MEM_RESERVED);
	memmap_add(m, 0x100000, 0x7fee0000, MEM_USABLE);
	memmap_add(m, 0x7ffe0000, 0x20000, MEM_ACPI);
	memmap_add(m, 0xfeffc000, 0x4000, MEM_RESERVED);
	memmap_add(m, 0x100000000, 0x80000000, MEM_USABLE);
	memmap_sanitize(m);
	assert_int_equal(m->n, 7);
	return m;
}

static void test_set_home_at_top(void **state)
{
	struct memmap *m = pc_map();

	/* lamina's home at the top of the highest RAM: the end of the
	 * range is carved off; the rest keeps its type. */
	assert_int_equal(memmap_set(m, 0x17e000000, 0x2000000, MEM_RESERVED), 0);
	assert_sanitized(m);
	assert_int_equal(m->n, 8);
	assert_true(m->r[6].base == 0x100000000 && m->r[6].size == 0x7e000000 &&
		    m->r[6].type == MEM_USABLE);
	assert_true(m->r[7].base == 0x17e000000 && m->r[7].size == 0x2000000 &&
		    m->r[7].type == MEM_RESERVED);
	assert_int_equal(memmap_end_of(m, MEM_USABLE), 0x17e000000);
	assert_int_equal(memmap_end_of(m, MEM_RESERVED), 0x180000000);

	/* At the top of low RAM: merges with nothing (ACPI follows). */
	m = pc_map();
	assert_int_equal(memmap_set(m, 0x7dfe0000, 0x2000000, MEM_RESERVED), 0);
	assert_int_equal(m->n, 8);
	assert_true(m->r[3].base == 0x100000 && m->r[3].size == 0x7dee0000);
	assert_true(m->r[4].base == 0x7dfe0000 && m->r[4].size == 0x2000000 &&
		    m->r[4].type == MEM_RESERVED);
	assert_true(m->r[5].base == 0x7ffe0000 && m->r[5].type == MEM_ACPI);
}

static void test_set_edges_and_split(void **state)
{
	struct memmap *m = new_map();

	memmap_add(m, 0x100000, 0x100000, MEM_USABLE);
	memmap_sanitize(m);
	/* Lower edge. */
	assert_int_equal(memmap_set(m, 0x100000, 0x1000, MEM_RESERVED), 0);
	EXPECT_MAP(m, R(0x100000, 0x1000, MEM_RESERVED), R(0x101000, 0xff000, MEM_USABLE));
	/* Upper edge. */
	assert_int_equal(memmap_set(m, 0x1ff000, 0x1000, MEM_NVS), 0);
	EXPECT_MAP(m, R(0x100000, 0x1000, MEM_RESERVED), R(0x101000, 0xfe000, MEM_USABLE),
		   R(0x1ff000, 0x1000, MEM_NVS));
	/* Middle: the range is split in two around it. */
	assert_int_equal(memmap_set(m, 0x180000, 0x2000, MEM_BAD), 0);
	EXPECT_MAP(m, R(0x100000, 0x1000, MEM_RESERVED), R(0x101000, 0x7f000, MEM_USABLE),
		   R(0x180000, 0x2000, MEM_BAD), R(0x182000, 0x7d000, MEM_USABLE),
		   R(0x1ff000, 0x1000, MEM_NVS));
	/* Back to usable: merges with both neighbours. */
	assert_int_equal(memmap_set(m, 0x180000, 0x2000, MEM_USABLE), 0);
	EXPECT_MAP(m, R(0x100000, 0x1000, MEM_RESERVED), R(0x101000, 0xfe000, MEM_USABLE),
		   R(0x1ff000, 0x1000, MEM_NVS));
	/* Across several ranges and into the gaps around them; the type set
	 * is final whatever was there (usable over reserved too). */
	assert_int_equal(memmap_set(m, 0x80000, 0x200000, MEM_USABLE), 0);
	EXPECT_MAP(m, R(0x80000, 0x200000, MEM_USABLE));
	/* Adjacent below and above, same type: merged. */
	assert_int_equal(memmap_set(m, 0x70000, 0x10000, MEM_USABLE), 0);
	assert_int_equal(memmap_set(m, 0x280000, 0x10000, MEM_USABLE), 0);
	EXPECT_MAP(m, R(0x70000, 0x220000, MEM_USABLE));
	/* In a gap, alone. */
	assert_int_equal(memmap_set(m, 0x1000, 0x1000, MEM_ACPI), 0);
	EXPECT_MAP(m, R(0x1000, 0x1000, MEM_ACPI), R(0x70000, 0x220000, MEM_USABLE));
	/* Zero size changes nothing. */
	assert_int_equal(memmap_set(m, 0x80000, 0, MEM_RESERVED), 0);
	EXPECT_MAP(m, R(0x1000, 0x1000, MEM_ACPI), R(0x70000, 0x220000, MEM_USABLE));
}

static void test_set_overflow(void **state)
{
	struct memmap *m = new_map();

	/* A full map of alternating types. */
	for (unsigned int i = 0; i < MEMMAP_MAX; i++)
		memmap_add(m, i * 0x10000ull, 0x10000, i & 1 ? MEM_RESERVED : MEM_USABLE);
	assert_int_equal(memmap_sanitize(m), MEMMAP_MAX);
	struct memmap before = *m;
	/* Splitting one range needs two more slots. */
	assert_int_equal(memmap_set(m, 0x4000, 0x1000, MEM_RESERVED), -1);
	assert_memory_equal(m, &before, sizeof(before));
	/* Replacing one range exactly by its neighbours' type merges three
	 * into one: that fits. */
	assert_int_equal(memmap_set(m, 0x10000, 0x10000, MEM_USABLE), 0);
	assert_int_equal(m->n, MEMMAP_MAX - 2);
	assert_true(m->r[0].base == 0 && m->r[0].size == 0x30000 &&
		    m->r[0].type == MEM_USABLE);
	assert_sanitized(m);
}

static void test_set_wrap(void **state)
{
	struct memmap *m = new_map();

	memmap_add(m, 0, 0x100000, MEM_USABLE);
	memmap_add(m, TOP - 0xffff, 0x10000, MEM_RESERVED);
	memmap_sanitize(m);
	/* Up to 2^64 exactly: the top page becomes usable. */
	assert_int_equal(memmap_set(m, TOP - 0xfff, 0x1000, MEM_USABLE), 0);
	assert_sanitized(m);
	assert_int_equal(m->n, 3);
	assert_true(m->r[1].base == TOP - 0xffff && m->r[1].size == 0xf000 &&
		    m->r[1].type == MEM_RESERVED);
	assert_true(m->r[2].base == TOP - 0xfff && m->r[2].type == MEM_USABLE);
	assert_true(memmap_is_usable(m, TOP - 0xfff, 0xfff));
	/* Past 2^64: clipped, low memory untouched. */
	assert_int_equal(memmap_set(m, TOP - 0x1fff, 0x10000, MEM_BAD), 0);
	assert_sanitized(m);
	assert_int_equal(m->n, 3);
	assert_true(m->r[0].base == 0 && m->r[0].size == 0x100000 &&
		    m->r[0].type == MEM_USABLE);
	assert_true(m->r[2].base == TOP - 0x1fff && m->r[2].type == MEM_BAD);
	assert_false(memmap_is_usable(m, TOP - 0xfff, 0x10));
}

/* ---- directed: is_usable, end_of, find_free ---- */

static void test_is_usable(void **state)
{
	struct memmap *m = pc_map();

	assert_true(memmap_is_usable(m, 0, 0x9fc00));
	assert_false(memmap_is_usable(m, 0, 0x9fc01));
	assert_true(memmap_is_usable(m, 0x9fbff, 1));
	assert_false(memmap_is_usable(m, 0x9fc00, 1));
	assert_false(memmap_is_usable(m, 0xa0000, 0x1000));   /* a gap */
	assert_true(memmap_is_usable(m, 0x100000, 0x7fee0000));
	assert_false(memmap_is_usable(m, 0x100000, 0x7fee0001)); /* into ACPI */
	assert_false(memmap_is_usable(m, 0x7ffe0000, 0x1000));   /* ACPI */
	assert_false(memmap_is_usable(m, 0xfff00000, 0x200000)); /* gap, then RAM */
	assert_true(memmap_is_usable(m, 0x17ffff000, 0x1000));
	assert_false(memmap_is_usable(m, 0x17ffff000, 0x1001));
	/* Sizes that run past 2^64 must not wrap around onto low RAM. */
	assert_false(memmap_is_usable(m, 0x1000, TOP));
	assert_false(memmap_is_usable(m, 0x100000000, TOP - 0xfffff000));
	assert_false(memmap_is_usable(m, TOP - 0xfff, 0x2000));
}

static void test_end_of(void **state)
{
	struct memmap *m = pc_map();

	assert_int_equal(memmap_end_of(m, 0), 0x180000000);
	assert_int_equal(memmap_end_of(m, MEM_USABLE), 0x180000000);
	assert_int_equal(memmap_end_of(m, MEM_RESERVED), 0xff000000);
	assert_int_equal(memmap_end_of(m, MEM_ACPI), 0x80000000);
	assert_int_equal(memmap_end_of(m, MEM_NVS), 0);
	assert_int_equal(memmap_end_of(new_map(), 0), 0);
}

static void test_find_free(void **state)
{
	struct memmap *m = pc_map();
	u64 base = 0x5a5a;

	/* Highest fit: the top of RAM above 4 GiB. */
	assert_int_equal(memmap_find_free(m, 0x100000, 0x1000, TOP, NULL, 0, &base), 0);
	assert_int_equal(base, 0x17ff00000);
	/* Limited to 4 GiB: the top of low RAM, below the ACPI tables. */
	assert_int_equal(memmap_find_free(m, 0x100000, 0x1000, 0x100000000, NULL, 0, &base), 0);
	assert_int_equal(base, 0x7fee0000);
	/* 2 MiB aligned. */
	assert_int_equal(memmap_find_free(m, 0x100000, 0x200000, 0x100000000, NULL, 0, &base), 0);
	assert_int_equal(base, 0x7fe00000);
	/* An unaligned limit. */
	assert_int_equal(memmap_find_free(m, 0x3000, 0x1000, 0x12345678, NULL, 0, &base), 0);
	assert_int_equal(base, 0x12342000);
	/* The limit is the end, inclusive. */
	assert_int_equal(memmap_find_free(m, 0x1000, 0x1000, 0x9f000, NULL, 0, &base), 0);
	assert_int_equal(base, 0x9e000);
	/* Below 1 MiB only the first range fits. */
	assert_int_equal(memmap_find_free(m, 0x10000, 0x1000, 0x100000, NULL, 0, &base), 0);
	assert_int_equal(base, 0x8f000);
	/* An exact fit of a whole range. */
	struct memmap *e = new_map();
	memmap_add(e, 0x200000, 0x200000, MEM_USABLE);
	memmap_sanitize(e);
	assert_int_equal(memmap_find_free(e, 0x200000, 0x200000, TOP, NULL, 0, &base), 0);
	assert_int_equal(base, 0x200000);

	/* No fit: too big, too aligned, limit too low, bad arguments. */
	base = 0x5a5a;
	assert_int_equal(memmap_find_free(m, 0x80000001, 0x1000, TOP, NULL, 0, &base), -1);
	assert_int_equal(memmap_find_free(e, 0x200000, 0x400000, TOP, NULL, 0, &base), -1);
	assert_int_equal(memmap_find_free(e, 0x1000, 0x1000, 0x200fff, NULL, 0, &base), -1);
	assert_int_equal(memmap_find_free(m, 0x1000, 0x1000, 0, NULL, 0, &base), -1);
	assert_int_equal(memmap_find_free(m, 0, 0x1000, TOP, NULL, 0, &base), -1);
	assert_int_equal(memmap_find_free(m, 0x1000, 0, TOP, NULL, 0, &base), -1);
	assert_int_equal(base, 0x5a5a);
}

static void test_find_free_avoid(void **state)
{
	struct memmap *m = pc_map();
	u64 base;

	/* One range in the way: the block goes just below it. */
	const struct mem_range kernel[] = { R(0x17ff80000, 0x10000, 0) };
	assert_int_equal(memmap_find_free(m, 0x100000, 0x1000, TOP, kernel, 1, &base), 0);
	assert_int_equal(base, 0x17fe80000);
	/* One ending where the block starts is not in the way. */
	const struct mem_range low[] = { R(0x17fe00000, 0x100000, 0) };
	assert_int_equal(memmap_find_free(m, 0x100000, 0x1000, TOP, low, 1, &base), 0);
	assert_int_equal(base, 0x17ff00000);
	/* A chain, unsorted: each dodge lands in the next one. */
	const struct mem_range chain[] = {
		R(0x17fc00000, 0x1000, 0), R(0x17ff80000, 0x1000, 0), R(0x17fe00000, 0x1000, 0),
		R(0x17fd00000, 0, 0), /* empty: ignored */
	};
	assert_int_equal(memmap_find_free(m, 0x100000, 0x100000, TOP, chain, 4, &base), 0);
	assert_int_equal(base, 0x17fd00000);
	assert_int_equal(memmap_find_free(m, 0x180000, 0x100000, TOP, chain, 4, &base), 0);
	assert_int_equal(base, 0x17fa00000);
	/* Avoiding all of high RAM sends it below 4 GiB. */
	const struct mem_range high[] = { R(0x100000000, 0x80000000, 0) };
	assert_int_equal(memmap_find_free(m, 0x1000, 0x1000, TOP, high, 1, &base), 0);
	assert_int_equal(base, 0x7ffdf000);
	/* Avoiding everything. */
	const struct mem_range all[] = { R(0, TOP, 0) };
	assert_int_equal(memmap_find_free(m, 0x1000, 0x1000, TOP, all, 1, &base), -1);
	/* An avoided range starting below the size asked for. */
	struct memmap *e = new_map();
	memmap_add(e, 0, 0x10000, MEM_USABLE);
	memmap_sanitize(e);
	const struct mem_range first[] = { R(0x2000, 0x1000, 0) };
	assert_int_equal(memmap_find_free(e, 0x4000, 0x1000, TOP, first, 1, &base), 0);
	assert_int_equal(base, 0xc000);
	assert_int_equal(memmap_find_free(e, 0xd000, 0x1000, TOP, first, 1, &base), 0);
	assert_int_equal(base, 0x3000);
	assert_int_equal(memmap_find_free(e, 0xe000, 0x1000, TOP, first, 1, &base), -1);
	assert_int_equal(memmap_find_free(e, 0x2000, 0x1000, 0x4000, first, 1, &base), 0);
	assert_int_equal(base, 0);
}

/* ---- random, against a per-page model ---- */

#define NPAGES 256
#define UNIT 0x1000ull

static u64 rng_state = 0x1234567887654321ull;

static u64 rnd(void)
{
	return host_rand(&rng_state);
}

static unsigned int rnd_below(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

static const u32 random_types[] = { MEM_USABLE, MEM_USABLE, MEM_USABLE, MEM_RESERVED,
				    MEM_ACPI, MEM_NVS, MEM_BAD, MEM_PMEM };

/* Position in the header's order of precedence: lower wins. */
static unsigned int strength(u32 type)
{
	static const u32 order[] = { MEM_BAD, MEM_RESERVED, MEM_NVS, MEM_ACPI };

	for (unsigned int i = 0; i < ARRAY_SIZE(order); i++)
		if (order[i] == type)
			return i;
	return type == MEM_USABLE ? 5 : 4;
}

/* One type per page, 0 where nothing is. */
struct model {
	u32 page[NPAGES];
};

static void model_to_map(const struct model *md, struct memmap *m)
{
	m->n = 0;
	m->lost = false;
	for (unsigned int p = 0; p < NPAGES;) {
		unsigned int q = p;
		while (q < NPAGES && md->page[q] == md->page[p])
			q++;
		if (md->page[p])
			memmap_add(m, p * UNIT, (q - p) * UNIT, md->page[p]);
		p = q;
	}
}

static void expect_model(const struct memmap *m, const struct model *md)
{
	struct memmap want;

	model_to_map(md, &want);
	expect_map(m, want.r, want.n);
}

/* A random map, sanitized, and its model. */
static void random_map(struct memmap *m, struct model *md, unsigned int nranges)
{
	memset(md, 0, sizeof(*md));
	m->n = 0;
	m->lost = false;
	for (unsigned int i = 0; i < nranges; i++) {
		unsigned int b = rnd_below(NPAGES), s = rnd_below(24);
		u32 t = random_types[rnd_below(ARRAY_SIZE(random_types))];
		if (b + s > NPAGES)
			s = NPAGES - b;
		memmap_add(m, b * UNIT, s * UNIT, t);
		for (unsigned int p = b; p < b + s; p++)
			if (!md->page[p] || strength(t) < strength(md->page[p]))
				md->page[p] = t;
	}
	unsigned int n = memmap_sanitize(m);
	assert_int_equal(n, m->n);
}

static void test_random_sanitize(void **state)
{
	struct memmap m;
	struct model md;

	for (int iter = 0; iter < 3000; iter++) {
		random_map(&m, &md, rnd_below(40));
		assert_sanitized(&m);
		expect_model(&m, &md);
		/* Sanitizing again changes nothing. */
		struct memmap again = m;
		memmap_sanitize(&again);
		expect_map(&again, m.r, m.n);
	}
}

static void test_random_set(void **state)
{
	struct memmap m;
	struct model md;

	for (int iter = 0; iter < 500; iter++) {
		random_map(&m, &md, rnd_below(30));
		for (int k = 0; k < 20; k++) {
			unsigned int b = rnd_below(NPAGES), s = 1 + rnd_below(40);
			u32 t = random_types[rnd_below(ARRAY_SIZE(random_types))];
			if (b + s > NPAGES)
				s = NPAGES - b;
			assert_int_equal(memmap_set(&m, b * UNIT, s * UNIT, t), 0);
			for (unsigned int p = b; p < b + s; p++)
				md.page[p] = t;
			assert_sanitized(&m);
			expect_model(&m, &md);
		}
	}
}

static bool model_usable(const struct model *md, u64 base, u64 size)
{
	for (u64 a = base; a < base + size; a += UNIT - (a % UNIT))
		if (a / UNIT >= NPAGES || md->page[a / UNIT] != MEM_USABLE)
			return false;
	return true;
}

static void test_random_is_usable_end_of(void **state)
{
	struct memmap m;
	struct model md;

	for (int iter = 0; iter < 500; iter++) {
		random_map(&m, &md, rnd_below(30));
		for (int k = 0; k < 200; k++) {
			u64 base = rnd() % (NPAGES * UNIT);
			u64 size = 1 + rnd() % (24 * UNIT);
			if (k & 1) { /* page-aligned, often exactly a range */
				base &= ~(UNIT - 1);
				size = (1 + rnd_below(24)) * UNIT;
			}
			assert_int_equal(memmap_is_usable(&m, base, size),
					 model_usable(&md, base, size));
		}
		for (unsigned int t = 0; t <= 8; t++) {
			u64 want = 0;
			for (unsigned int p = 0; p < NPAGES; p++)
				if (md.page[p] && (!t || md.page[p] == t))
					want = (p + 1) * UNIT;
			assert_int_equal(memmap_end_of(&m, t), want);
		}
	}
}

static bool model_fits(const struct model *md, unsigned int p, unsigned int size,
		       const struct mem_range *avoid, unsigned int nav)
{
	for (unsigned int q = p; q < p + size; q++)
		if (md->page[q] != MEM_USABLE)
			return false;
	for (unsigned int i = 0; i < nav; i++) {
		u64 a = avoid[i].base, b = avoid[i].base + avoid[i].size;
		if (a < b && a < (p + size) * UNIT && b > p * UNIT)
			return false;
	}
	return true;
}

static void test_random_find_free(void **state)
{
	struct memmap m;
	struct model md;
	struct mem_range avoid[5];

	for (int iter = 0; iter < 2000; iter++) {
		random_map(&m, &md, rnd_below(30));
		for (int k = 0; k < 20; k++) {
			unsigned int size = 1 + rnd_below(16);
			unsigned int align = 1u << rnd_below(6);
			unsigned int limit = rnd_below(NPAGES + 8);
			unsigned int nav = rnd_below(ARRAY_SIZE(avoid) + 1);
			for (unsigned int i = 0; i < nav; i++) {
				/* Page-aligned or not, sometimes empty. */
				avoid[i].base = rnd() % (NPAGES * UNIT);
				avoid[i].size = rnd_below(8) ? rnd() % (32 * UNIT) : 0;
				avoid[i].type = 0;
			}
			int want = -1;
			u64 want_base = 0, got = 0xdead;
			int top = (int)MIN(limit, NPAGES) - (int)size;
			for (int p = top < 0 ? -1 : top / (int)align * (int)align; p >= 0;
			     p -= (int)align) {
				if (model_fits(&md, (unsigned int)p, size, avoid, nav)) {
					want = 0;
					want_base = p * UNIT;
					break;
				}
			}
			int r = memmap_find_free(&m, size * UNIT, align * UNIT, limit * UNIT,
						 avoid, nav, &got);
			if (r != want || (!r && got != want_base)) {
				print_map("map", m.r, m.n);
				print_map("avoid", avoid, nav);
				printf("# size %#x align %#x limit %#x: got %d %#llx, want %d %#llx\n",
				       size * 0x1000, align * 0x1000, limit * 0x1000, r,
				       (unsigned long long)got, want,
				       (unsigned long long)want_base);
			}
			assert_int_equal(r, want);
			if (!r)
				assert_int_equal(got, want_base);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_empty),
		cmocka_unit_test(test_sanitize_sorts_and_merges),
		cmocka_unit_test(test_sanitize_partial_overlap),
		cmocka_unit_test(test_sanitize_containment),
		cmocka_unit_test(test_sanitize_type_precedence),
		cmocka_unit_test(test_sanitize_type_zero_is_reserved),
		cmocka_unit_test(test_sanitize_overflow_is_reported),
		cmocka_unit_test(test_raw_map_resolved_before_cut),
		cmocka_unit_test(test_raw_map_too_many_loses_usable_top),
		cmocka_unit_test(test_clip),
		cmocka_unit_test(test_sanitize_unaligned),
		cmocka_unit_test(test_sanitize_wrap),
		cmocka_unit_test(test_set_home_at_top),
		cmocka_unit_test(test_set_edges_and_split),
		cmocka_unit_test(test_set_overflow),
		cmocka_unit_test(test_set_wrap),
		cmocka_unit_test(test_is_usable),
		cmocka_unit_test(test_end_of),
		cmocka_unit_test(test_find_free),
		cmocka_unit_test(test_find_free_avoid),
		cmocka_unit_test(test_random_sanitize),
		cmocka_unit_test(test_random_set),
		cmocka_unit_test(test_random_is_usable_end_of),
		cmocka_unit_test(test_random_find_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
