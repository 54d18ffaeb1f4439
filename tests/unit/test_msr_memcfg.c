/* core/msr_memcfg.c: which guest writes to the MTRRs and to AMD's
 * memory-map MSRs may reach the CPU, decided on snapshots built as
 * mtrr_read() builds them (arch/x86/mtrr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <core/msr_memcfg.h>
#include <x86/pagetable.h>

#define PHYS_BITS 36
#define DEF_TYPE 0x2ff
#define BASE(n) (0x200 + 2 * (n))
#define MASK(n) (0x201 + 2 * (n))
#define V 0x800ull /* PHYSMASK valid */
#define E 0x800ull /* MTRRdefType enable */
#define FE 0x400ull

/* lamina's home below 4 GiB, as on QEMU with 512 MiB. */
#define HOME 0x1e000000ull
#define HOME_SIZE (32 * MiB)

/* A contiguous mask of 36 address bits for a power-of-two size. */
static u64 mask_of(u64 size)
{
	return (~(size - 1) & ((1ull << PHYS_BITS) - 1)) | V;
}

/* SeaBIOS's layout: default WB with fixed ranges, the PCI hole UC by
 * pair 0; 8 pairs. */
static struct mtrr_state seabios(void)
{
	struct mtrr_state s;

	mtrr_state_init(&s, 0x508, PHYS_BITS);
	mtrr_set_msr(&s, DEF_TYPE, E | FE | MT_WB);
	mtrr_set_msr(&s, BASE(0), 0xc0000000 | MT_UC);
	mtrr_set_msr(&s, MASK(0), mask_of(GiB));
	return s;
}

/* Firmware of the other kind: default UC, RAM WB by pair 0. */
static struct mtrr_state uc_default(void)
{
	struct mtrr_state s;

	mtrr_state_init(&s, 0x508, PHYS_BITS);
	mtrr_set_msr(&s, DEF_TYPE, E | FE | MT_UC);
	mtrr_set_msr(&s, BASE(0), 0 | MT_WB);
	mtrr_set_msr(&s, MASK(0), mask_of(4 * GiB));
	return s;
}

static enum memcfg_verdict verdict(const struct mtrr_state *s, u32 msr, u64 val)
{
	u64 pa = 0;
	u8 type = 0;

	return mtrr_write_verdict(s, msr, val, HOME, HOME_SIZE, &pa, &type);
}

/* Write a pair into the snapshot after checking each half as the guest
 * would write it (base first). */
static void set_pair(struct mtrr_state *s, unsigned int n, u64 base, u64 mask)
{
	assert_int_equal(verdict(s, BASE(n), base), MEMCFG_PASS);
	mtrr_set_msr(s, BASE(n), base);
	assert_int_equal(verdict(s, MASK(n), mask), MEMCFG_PASS);
	mtrr_set_msr(s, MASK(n), mask);
}

static void expect_refused(const struct mtrr_state *s, u32 msr, u64 val, u64 want_pa,
			   u8 want_type)
{
	u64 pa = 0;
	u8 type = 0;

	assert_int_equal(mtrr_write_verdict(s, msr, val, HOME, HOME_SIZE, &pa, &type),
			 MEMCFG_REFUSED);
	assert_int_equal(pa, want_pa);
	assert_int_equal(type, want_type);
}

static void test_wc_over_home_refused(void **state)
{
	struct mtrr_state s = seabios();

	/* The base alone changes nothing while the mask's V bit is clear. */
	assert_int_equal(verdict(&s, BASE(1), HOME | MT_WC), MEMCFG_PASS);
	mtrr_set_msr(&s, BASE(1), HOME | MT_WC);
	expect_refused(&s, MASK(1), mask_of(HOME_SIZE), HOME, MT_WC);
	/* 2 MiB of it, in the middle, is enough. */
	mtrr_set_msr(&s, BASE(1), (HOME + 16 * MiB) | MT_WC);
	expect_refused(&s, MASK(1), mask_of(2 * MiB), HOME + 16 * MiB, MT_WC);
	/* So is a larger range around it, and WC by default. */
	mtrr_set_msr(&s, BASE(1), 0 | MT_WC);
	expect_refused(&s, MASK(1), mask_of(GiB), HOME, MT_WC);
	expect_refused(&s, DEF_TYPE, E | FE | MT_WC, HOME, MT_WC);
	assert_string_equal(memcfg_type_name(MT_WC), "WC");
}

static void test_other_types_pass(void **state)
{
	static const u8 ok[] = { MT_UC, MT_WT, MT_WP, MT_WB };
	struct mtrr_state s = seabios();

	for (unsigned int i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(verdict(&s, BASE(1), HOME | ok[i]), MEMCFG_PASS);
		mtrr_set_msr(&s, BASE(1), HOME | ok[i]);
		assert_int_equal(verdict(&s, MASK(1), mask_of(HOME_SIZE)), MEMCFG_PASS);
		assert_int_equal(verdict(&s, DEF_TYPE, E | FE | ok[i]), MEMCFG_PASS);
	}
	/* WC elsewhere (a frame buffer), the home's neighbours included. */
	s = seabios();
	set_pair(&s, 1, 0xd0000000 | MT_WC, mask_of(256 * MiB));
	set_pair(&s, 2, (HOME - 32 * MiB) | MT_WC, mask_of(32 * MiB));
	set_pair(&s, 3, (HOME + HOME_SIZE) | MT_WC, mask_of(32 * MiB));
	/* WB default, home covered: WC as default type is the firmware's
	 * business elsewhere. */
	s = uc_default();
	assert_int_equal(verdict(&s, DEF_TYPE, E | FE | MT_WC), MEMCFG_PASS);
	/* UC wins over WC. */
	s = seabios();
	set_pair(&s, 1, HOME | MT_UC, mask_of(HOME_SIZE));
	set_pair(&s, 2, HOME | MT_WC, mask_of(HOME_SIZE));
}

/* Where the SDM leaves the type undefined (WC with WB or WT, WP with
 * WB, ...), the CPU might make it WC: refused. WT over WB is WT. */
static void test_undefined_overlap_refused(void **state)
{
	struct mtrr_state s = uc_default();

	mtrr_set_msr(&s, BASE(1), HOME | MT_WC);
	expect_refused(&s, MASK(1), mask_of(HOME_SIZE), HOME, MTRR_TYPE_UNDEFINED);
	assert_string_equal(memcfg_type_name(MTRR_TYPE_UNDEFINED), "an undefined mix of types");
	mtrr_set_msr(&s, BASE(1), HOME | MT_WP);
	expect_refused(&s, MASK(1), mask_of(HOME_SIZE), HOME, MTRR_TYPE_UNDEFINED);
	mtrr_set_msr(&s, BASE(1), HOME | MT_WT);
	assert_int_equal(verdict(&s, MASK(1), mask_of(HOME_SIZE)), MEMCFG_PASS);
}

/* Linux's cache_disable()/cache_enable() around every MTRR change, at
 * boot on every CPU: MTRRdefType with E, FE and the type cleared, the
 * pairs rewritten, MTRRdefType restored. While E is clear everything is
 * UC, whatever the pairs say; turning E back on is judged with them. */
static void test_mtrrs_off_pass(void **state)
{
	struct mtrr_state s = seabios();
	u64 def = E | FE | MT_WB;

	assert_int_equal(verdict(&s, DEF_TYPE, def & ~0xcffull), MEMCFG_PASS);
	mtrr_set_msr(&s, DEF_TYPE, def & ~0xcffull);
	set_pair(&s, 0, 0xc0000000 | MT_UC, mask_of(GiB));
	assert_int_equal(verdict(&s, DEF_TYPE, def), MEMCFG_PASS);
	/* Off, a WC range over the home is harmless, until E comes back. */
	set_pair(&s, 1, HOME | MT_WC, mask_of(HOME_SIZE));
	expect_refused(&s, DEF_TYPE, def, HOME, MT_WC);
	assert_int_equal(verdict(&s, DEF_TYPE, E | MT_WB), MEMCFG_REFUSED);
	assert_int_equal(verdict(&s, DEF_TYPE, FE | MT_WC), MEMCFG_PASS);
}

/* SDM 11.11.3: a mask may have holes. 64 MiB blocks with bit 27 left
 * out of the mask: two blocks, 128 MiB apart. */
static void test_noncontiguous_masks(void **state)
{
	struct mtrr_state s = seabios();
	u64 holed = mask_of(64 * MiB) & ~BIT(27);

	/* [320M, 384M) and [448M, 512M): the home is in the second. */
	assert_int_equal(verdict(&s, BASE(1), 0x14000000 | MT_WC), MEMCFG_PASS);
	mtrr_set_msr(&s, BASE(1), 0x14000000 | MT_WC);
	expect_refused(&s, MASK(1), holed, HOME, MT_WC);
	/* [256M, 320M) and [384M, 448M): the home is past both. */
	mtrr_set_msr(&s, BASE(1), 0x10000000 | MT_WC);
	assert_int_equal(verdict(&s, MASK(1), holed), MEMCFG_PASS);
	/* Bits 16-19 left out: one page of WC in every 64 KiB of a MiB, the
	 * first at the home's second page. */
	mtrr_set_msr(&s, BASE(1), (HOME + PAGE_SIZE) | MT_WC);
	expect_refused(&s, MASK(1), mask_of(PAGE_SIZE) & ~0xf0000ull, HOME + PAGE_SIZE, MT_WC);
}

/* The CPU's own #GPs: reserved types and bits, addresses past
 * MAXPHYADDR, pairs the CPU does not have, MSRs that are not these. */
static void test_reserved(void **state)
{
	struct mtrr_state s = seabios();

	for (u64 t = 2; t < 4; t++) {
		assert_int_equal(verdict(&s, BASE(1), HOME | t), MEMCFG_RESERVED);
		assert_int_equal(verdict(&s, DEF_TYPE, E | t), MEMCFG_RESERVED);
	}
	assert_int_equal(verdict(&s, BASE(1), HOME | 7), MEMCFG_RESERVED);
	assert_int_equal(verdict(&s, BASE(1), BIT(PHYS_BITS) | MT_WB), MEMCFG_RESERVED);
	assert_int_equal(verdict(&s, MASK(1), BIT(PHYS_BITS) | mask_of(GiB)), MEMCFG_RESERVED);
	assert_int_equal(verdict(&s, MASK(1), mask_of(GiB) | 1), MEMCFG_RESERVED);
	assert_int_equal(verdict(&s, DEF_TYPE, E | 0x100 | MT_WB), MEMCFG_RESERVED);
	assert_int_equal(verdict(&s, BASE(8), 0), MEMCFG_RESERVED);
	assert_int_equal(verdict(&s, MASK(39), 0), MEMCFG_RESERVED);
	assert_int_equal(verdict(&s, 0x250, 0), MEMCFG_RESERVED);
	assert_int_equal(verdict(&s, 0x277, 0), MEMCFG_RESERVED);
	assert_string_equal(memcfg_type_name(2), "a reserved type");
}

/* A home above 4 GiB, covered by a WB pair of a UC-default layout. */
static void test_home_above_4g(void **state)
{
	struct mtrr_state s = uc_default();
	const u64 home = 0x17e000000ull;
	u64 pa = 0;
	u8 type = 0;

	set_pair(&s, 1, 4 * GiB | MT_WB, mask_of(4 * GiB));
	/* WC over the home's second half: a mix with WB. */
	mtrr_set_msr(&s, BASE(2), 0x17f000000ull | MT_WC);
	assert_int_equal(mtrr_write_verdict(&s, MASK(2), mask_of(16 * MiB), home, HOME_SIZE,
					    &pa, &type), MEMCFG_REFUSED);
	assert_int_equal(pa, 0x17f000000ull);
	assert_int_equal(type, MTRR_TYPE_UNDEFINED);
	/* The WB pair switched off: the home is UC by default. */
	assert_int_equal(mtrr_write_verdict(&s, MASK(1), mask_of(4 * GiB) & ~V, home,
					    HOME_SIZE, &pa, &type), MEMCFG_PASS);
	/* WC by default, with the WB pair off: refused. */
	mtrr_set_msr(&s, MASK(1), 0);
	assert_int_equal(mtrr_write_verdict(&s, DEF_TYPE, E | MT_WC, home, HOME_SIZE, &pa,
					    &type), MEMCFG_REFUSED);
	assert_int_equal(pa, home);
}

/* ---- AMD's memory map ---- */

/* What msr.c's write_keeping() lets through. */
static bool amd_passes(u32 msr, u64 old, u64 val)
{
	unsigned int i;
	const struct amd_memmap_rule *r = amd_memmap_rule(msr, &i);

	assert_non_null(r);
	return !((old ^ val) & r->keep);
}

static void test_amd_rules(void **state)
{
	static const u32 covered[] = { 0xc0010010, 0xc0010016, 0xc0010017, 0xc0010018,
				       0xc0010019, 0xc001001a, 0xc001001d, 0xc0010111,
				       0xc0010112, 0xc0010113 };
	static const u32 others[] = { 0xc0010011, 0xc0010015, 0xc001001b, 0xc001001c,
				      0xc001001e, 0xc001001f, 0xc0010058, 0x200,
				      0xc0010110, 0xc0010114, 0xc0010116 };
	unsigned int seen = 0, i;

	for (unsigned int k = 0; k < ARRAY_SIZE(covered); k++) {
		const struct amd_memmap_rule *r = amd_memmap_rule(covered[k], &i);
		assert_non_null(r);
		assert_int_equal(r->msr, covered[k]);
		assert_true(i < AMD_MEMMAP_NRULES && !(seen & (1u << i)));
		seen |= 1u << i;
		assert_non_null(r->what);
		assert_ptr_equal(r, &amd_memmap_rules[i]);
	}
	assert_int_equal(seen, (1u << AMD_MEMMAP_NRULES) - 1);
	for (unsigned int k = 0; k < ARRAY_SIZE(others); k++)
		assert_null(amd_memmap_rule(others[k], &i));
}

/* SYSCFG as firmware leaves it: MtrrFixDramEn, MtrrVarDramEn,
 * MtrrTom2En. Only MtrrFixDramModEn may change (Linux clears it when the
 * firmware left it set); a write of the value it has passes. */
static void test_amd_syscfg(void **state)
{
	const u32 syscfg = 0xc0010010;
	const u64 fw = BIT(18) | BIT(20) | BIT(21) | 0x700;

	assert_true(amd_passes(syscfg, fw, fw));
	assert_true(amd_passes(syscfg, fw | BIT(19), fw));
	assert_true(amd_passes(syscfg, fw, fw | BIT(19)));
	for (unsigned int b = 18; b <= 23; b++)
		if (b != 19)
			assert_false(amd_passes(syscfg, fw, fw ^ BIT(b)));
	assert_false(amd_passes(syscfg, fw, fw ^ BIT(0)));
}

/* TOP_MEM, TOM2 and the IORRs: any change is refused (lowered below the
 * home, an IORR over it: MMIO; raised over ECAM or a mediated BAR:
 * DRAM). */
static void test_amd_top_and_iorrs(void **state)
{
	const u64 top_mem = 0x20000000, tom2 = 0x240000000ull;

	assert_true(amd_passes(0xc001001a, top_mem, top_mem));
	assert_false(amd_passes(0xc001001a, top_mem, HOME & ~0x7fffffull));
	assert_false(amd_passes(0xc001001a, top_mem, 0xe0000000));
	assert_true(amd_passes(0xc001001d, tom2, tom2));
	assert_false(amd_passes(0xc001001d, tom2, 4 * GiB));
	assert_false(amd_passes(0xc001001d, tom2, tom2 + GiB));
	assert_true(amd_passes(0xc0010016, 0, 0));
	assert_false(amd_passes(0xc0010016, 0, HOME));
	assert_false(amd_passes(0xc0010017, 0, mask_of(HOME_SIZE)));
	assert_false(amd_passes(0xc0010019, mask_of(HOME_SIZE), 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wc_over_home_refused),
		cmocka_unit_test(test_other_types_pass),
		cmocka_unit_test(test_undefined_overlap_refused),
		cmocka_unit_test(test_mtrrs_off_pass),
		cmocka_unit_test(test_noncontiguous_masks),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_home_above_4g),
		cmocka_unit_test(test_amd_rules),
		cmocka_unit_test(test_amd_syscfg),
		cmocka_unit_test(test_amd_top_and_iorrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
