/* The EPT entry format (arch/x86/vmx/ept.c) against the SDM's layout
 * (Vol. 3, "EPT Translation Mechanism"), alone and through the shared
 * page-table builder: read/write/execute in bits 0-2, the memory type in
 * bits 3-5 of leaves only, "ignore PAT" (bit 6) always clear, bit 7 set in
 * 2 MiB and 1 GiB leaves only, non-leaf entries allowing everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept.h" /* arch/x86/vmx, on the include path for this test */
#include "host_env.h"

#define R BIT(0)
#define W BIT(1)
#define X BIT(2)
#define IPAT BIT(6)
#define LARGE BIT(7)
#define MT(t) ((u64)(t) << 3)

static const u8 types[] = { MT_UC, MT_WC, MT_WT, MT_WP, MT_WB };

static void test_leaf_bits(void **state)
{
	const struct pt_format *f = &ept_format;

	for (unsigned int level = 1; level <= 3; level++) {
		u64 pa = PT_LEVEL_SIZE(level) * 3;
		for (unsigned int i = 0; i < sizeof(types); i++) {
			u64 e = f->leaf(pa, level, PT_RWX | PT_USER | PT_MEMTYPE(types[i]));
			assert_int_equal(e, pa | R | W | X | MT(types[i]) | (level > 1 ? LARGE : 0));
			assert_false(e & IPAT);
			assert_true(f->present(e));
			assert_true(f->is_leaf(e, level));
		}
		assert_int_equal(f->leaf(pa, level, PT_R | PT_MEMTYPE(MT_WB)),
				 pa | R | MT(MT_WB) | (level > 1 ? LARGE : 0));
		assert_int_equal(f->leaf(pa, level, PT_R | PT_X | PT_MEMTYPE(MT_UC)),
				 pa | R | X | (level > 1 ? LARGE : 0));
		/* No PT_R: not present at all (EPT has no write-only pages). */
		assert_int_equal(f->leaf(pa, level, PT_W | PT_X | PT_MEMTYPE(MT_WB)), 0);
		assert_false(f->present(0));
	}
}

/* leaf_attr gives back what leaf took, less PT_USER (EPT has no U/S). */
static void test_leaf_attr_inverse(void **state)
{
	const struct pt_format *f = &ept_format;
	const u64 perms[] = { PT_R, PT_R | PT_W, PT_R | PT_X, PT_RWX };

	for (unsigned int level = 1; level <= 3; level++)
		for (unsigned int p = 0; p < ARRAY_SIZE(perms); p++)
			for (unsigned int i = 0; i < sizeof(types); i++) {
				u64 attr = perms[p] | PT_MEMTYPE(types[i]);
				u64 e = f->leaf(PT_LEVEL_SIZE(level), level, attr | PT_USER);
				assert_int_equal(f->leaf_attr(e, level), attr);
			}
	assert_int_equal(f->leaf_attr(0, 1), 0);
}

static void test_table_entries(void **state)
{
	const struct pt_format *f = &ept_format;
	u64 t = f->table(0x12345000);

	assert_int_equal(t, 0x12345000 | R | W | X);
	assert_true(f->present(t));
	assert_false(f->is_leaf(t, 2));
	assert_false(f->is_leaf(t, 3));
	assert_int_equal(t & f->addr_mask, 0x12345000);
	assert_int_equal(f->addr_mask, 0x000ffffffffff000ull);
}

/* ---- through the builder, tables in host memory ---- */

#define MAX_TABLES 64
static void *tables[MAX_TABLES];
static unsigned int ntables;

static void *alloc_table(void *arg, u64 *pa)
{
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

	assert_non_null(p);
	assert_true(ntables < MAX_TABLES);
	tables[ntables++] = p;
	memset(p, 0, PAGE_SIZE);
	*pa = (uintptr_t)p;
	return p;
}

static void free_tables(void)
{
	while (ntables)
		free(tables[--ntables]);
}

static void *table_va(void *arg, u64 pa)
{
	return (void *)(uintptr_t)pa;
}

/* Every entry of every table: leaves as leaf() makes them, tables RWX. */
static void check_tables(const u64 *t, unsigned int level, unsigned long *leaves)
{
	for (unsigned int i = 0; i < 512; i++) {
		u64 e = t[i];
		if (!ept_format.present(e))
			continue;
		assert_false(e & IPAT);
		if (ept_format.is_leaf(e, level)) {
			assert_int_equal(!!(e & LARGE), level > 1);
			leaves[level]++;
			continue;
		}
		assert_int_equal(e & (R | W | X | MT(7) | LARGE), R | W | X);
		check_tables((const u64 *)(uintptr_t)(e & ept_format.addr_mask), level - 1, leaves);
	}
}

/* 4 GiB of WB with a UC hole punched in and a 4 KiB page taken away, with
 * and without 1 GiB pages: every lookup gives the right address, type
 * and permissions, and the layout uses the pages it should. */
static void build_and_check(unsigned int max_level, const unsigned long want[4])
{
	struct pt_ctx c = { .fmt = &ept_format, .alloc_table = alloc_table, .table_va = table_va };
	unsigned long leaves[4] = { 0 };
	u64 e, pa;

	ept_format.max_leaf_level = max_level;
	assert_int_equal(pt_init(&c), 0);
	assert_int_equal(pt_map(&c, 0, 0, 4 * GiB, PT_RWX | PT_MEMTYPE(MT_WB)), 0);
	assert_int_equal(pt_map(&c, 3 * GiB, 3 * GiB, 2 * MiB, PT_RWX | PT_MEMTYPE(MT_UC)), 0);
	assert_int_equal(pt_map(&c, 1 * GiB + 4096, 0, 4096, 0), 0);
	check_tables((const u64 *)(uintptr_t)c.root_pa, PT_LEVELS, leaves);
	for (unsigned int l = 1; l <= 3; l++)
		assert_int_equal(leaves[l], want[l]);
	assert_int_equal(pt_lookup(&c, 3 * GiB + 5, &e, &pa), 2);
	assert_int_equal(pa, 3 * GiB + 5);
	assert_int_equal(ept_format.leaf_attr(e, 2), PT_RWX | PT_MEMTYPE(MT_UC));
	assert_int_equal(pt_lookup(&c, 1 * GiB + 4096, &e, &pa), 0);
	assert_int_equal(pt_lookup(&c, 1 * GiB + 8192, &e, &pa), 1);
	assert_int_equal(ept_format.leaf_attr(e, 1), PT_RWX | PT_MEMTYPE(MT_WB));
	assert_int_equal(pt_lookup(&c, 2 * GiB + 7, &e, &pa), max_level == 3 ? 3 : 2);
	assert_int_equal(pa, 2 * GiB + 7);
	free_tables();
}

static void test_builder_1g(void **state)
{
	/* GiB 0 and 2 whole; GiB 1: 511 x 2 MiB + 511 x 4 KiB; GiB 3: 512 x 2 MiB. */
	const unsigned long want[4] = { 0, 511, 511 + 512, 2 };

	build_and_check(3, want);
}

static void test_builder_2m(void **state)
{
	const unsigned long want[4] = { 0, 511, 4 * 512 - 1, 0 };

	build_and_check(2, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaf_bits),
		cmocka_unit_test(test_leaf_attr_inverse),
		cmocka_unit_test(test_table_entries),
		cmocka_unit_test(test_builder_1g),
		cmocka_unit_test(test_builder_2m),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
