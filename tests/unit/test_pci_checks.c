/* core/pci/pci_checks.c: BAR sizes from what the BAR reads back after
 * all-ones was written, BARs that do not fit where they must be hidden,
 * and MCFG entries lamina must not use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <core/mm.h>
#include <core/pci_checks.h>

/* pci_ecam_refusal() keeps ECAM out of lamina's home. */
struct home home;

/* Read-back of a 64-bit BAR: low register (type bits 0b100 included),
 * upper register. */
#define MEM64(lo, hi) ((u64)(hi) << 32 | (lo))

static void test_mem32(void **state)
{
	/* 128 KiB, non-prefetchable; prefetchable 256 MiB. */
	assert_int_equal(pci_bar_size(0xfffe0000, false), 0x20000);
	assert_int_equal(pci_bar_size(0xf0000008, false), 0x10000000);
	/* Smallest: 16 bytes. */
	assert_int_equal(pci_bar_size(0xfffffff0, false), 0x10);
}

static void test_mem64(void **state)
{
	assert_int_equal(pci_bar_size(MEM64(0xffffc00c, 0xffffffff), false), 0x4000);
	/* 8 GiB: no address bit in the low register. */
	assert_int_equal(pci_bar_size(MEM64(0x0000000c, 0xfffffffe), false), 0x200000000ull);
}

/* Upper address bits hardwired to 0: ~mask + 1 gave 0xffffff0001000000. */
static void test_mem64_decoding_40_bits(void **state)
{
	assert_int_equal(pci_bar_size(MEM64(0xff00000c, 0x000000ff), false), 16 * MiB);
}

static void test_mem32_upper_bits_zero(void **state)
{
	assert_int_equal(pci_bar_size(0x000ff000, false), 0x1000);
}

static void test_io(void **state)
{
	assert_int_equal(pci_bar_size(0xffffffe1, true), 0x20);
	/* Upper 16 bits reading 0. */
	assert_int_equal(pci_bar_size(0x0000ff01, true), 0x100);
	/* Nothing in the 16-bit port space: unreachable from x86. */
	assert_int_equal(pci_bar_size(0xffff0001, true), 0);
}

static void test_unimplemented(void **state)
{
	assert_int_equal(pci_bar_size(0, false), 0);
	assert_int_equal(pci_bar_size(0, true), 0);
	/* Only type bits stick. */
	assert_int_equal(pci_bar_size(0x8, false), 0);
	assert_int_equal(pci_bar_size(MEM64(0xc, 0), false), 0);
	assert_int_equal(pci_bar_size(0x1, true), 0);
}

static void test_mem64_half_the_space(void **state)
{
	assert_int_equal(pci_bar_size(MEM64(0x0000000c, 0x80000000), false), 1ull << 63);
}

static void test_range(void **state)
{
	const u64 limit = 1ull << 46;

	assert_null(pci_range_refusal(0xfe000000, 0x1000, limit));
	assert_null(pci_range_refusal(limit - 0x1000, 0x1000, limit));
	assert_null(pci_range_refusal(0xfff0, 0x10, 0x10000));
	assert_string_equal(pci_range_refusal(limit - 0x1000, 0x2000, limit), "reaches past the end");
	assert_string_equal(pci_range_refusal(limit, 0x1000, limit), "reaches past the end");
	assert_string_equal(pci_range_refusal(0x10, 1ull << 63, 1ull << 62), "reaches past the end");
	assert_string_equal(pci_range_refusal(0x1fff0, 0x10, 0x10000), "reaches past the end");
	assert_string_equal(pci_range_refusal(0xffffffff00000000ull, 1ull << 63, limit),
			    "wraps past 2^64");
	assert_string_equal(pci_range_refusal(1ull << 63, 1ull << 63, ~0ull), "wraps past 2^64");
}

/* Firmware map: RAM below 2 GiB, reserved (ECAM) at 0xb0000000-0xc0000000,
 * ACPI at 0xc0000000, NVS at 0xc0100000, reserved up to 4 GiB, RAM from
 * 4 GiB to 8 GiB of which lamina's home is the top 32 MiB. */
static struct memmap fw = {
	.n = 6,
	.r = {
		{ 0, 0x80000000, MEM_USABLE },
		{ 0xb0000000, 0x10000000, MEM_RESERVED },
		{ 0xc0000000, 0x100000, MEM_ACPI },
		{ 0xc0100000, 0x100000, MEM_NVS },
		{ 0xc0200000, 0x3fe00000, MEM_RESERVED },
		{ 0x100000000, 0x100000000, MEM_USABLE },
	},
};

#define PHYS_LIMIT (1ull << 40) /* QEMU's EPYC-Rome: 40-bit physical addresses */

static int set_home(void **state)
{
	home = (struct home){ .base = 0x200000000 - 32 * MiB, .size = 32 * MiB };
	return 0;
}

static void test_ecam_accepted(void **state)
{
	assert_null(pci_ecam_refusal(0xb0000000, 0, 0xff, &fw, PHYS_LIMIT));
	/* The window is base + first bus: RAM below it does not matter. */
	assert_null(pci_ecam_refusal(0x7ff00000, 0x31, 0x40, &fw, PHYS_LIMIT));
	/* In no range of the map (a hole): only memory is refused. */
	assert_null(pci_ecam_refusal(0x90000000, 0, 0x1f, &fw, PHYS_LIMIT));
}

/* Refused, and for the reason expected (a word of the message). */
static void expect_refused(u64 base, u8 bus_start, u8 bus_end, const struct memmap *m,
			   const char *word)
{
	const char *why = pci_ecam_refusal(base, bus_start, bus_end, m, PHYS_LIMIT);

	assert_non_null(why);
	assert_non_null(strstr(why, word));
}

static void test_ecam_refused(void **state)
{
	expect_refused(0xb0000000, 0x10, 0x0f, &fw, "below");
	expect_refused(0xb0080000, 0, 0x0f, &fw, "aligned");
	expect_refused(~0ull - MiB + 1, 0, 0, &fw, "2^64"); /* ends at 2^64 */
	expect_refused(0xfffffffff0000000ull, 0, 0xff, &fw, "2^64");
	expect_refused(0x70000000, 0, 0xff, &fw, "RAM");    /* usable */
	expect_refused(0xc0000000, 0, 0, &fw, "RAM");       /* ACPI */
	expect_refused(0xc0100000, 0, 0, &fw, "RAM");       /* NVS */
	expect_refused(0x1f0000000, 0, 0, &fw, "RAM");      /* above 4 GiB */
	expect_refused(PHYS_LIMIT - 16 * MiB, 0, 0x10, &fw, "physical");
	assert_null(pci_ecam_refusal(PHYS_LIMIT - 16 * MiB, 0, 0x0f, &fw, PHYS_LIMIT));
}

static void test_ecam_home(void **state)
{
	struct memmap none = { 0 };

	/* The home is refused even where the firmware map says nothing. */
	expect_refused(home.base - 16 * MiB, 0, 0x10, &none, "lamina");
	assert_null(pci_ecam_refusal(home.base - 16 * MiB, 0, 0x0f, &none, PHYS_LIMIT));
}

static void expect_window(const struct pci_ecam_window *w, bool enabled, u64 base,
			  unsigned int buses)
{
	assert_int_equal(w->enabled, enabled);
	assert_int_equal(w->base, base);
	assert_int_equal(w->buses, buses);
}

static void test_pciexbar(void **state)
{
	struct pci_ecam_window w;

	/* QEMU q35 as SeaBIOS leaves it: 256 MiB at 0xb0000000, enabled. */
	assert_int_equal(pci_pciexbar_decode(0xb0000001, &w), 0);
	expect_window(&w, true, 0xb0000000, 256);
	/* 128 MiB (bit 27 is address), 64 MiB (bit 26 too); above 4 GiB. */
	assert_int_equal(pci_pciexbar_decode(0x0000004ff8000003ull, &w), 0);
	expect_window(&w, true, 0x4ff8000000ull, 128);
	assert_int_equal(pci_pciexbar_decode(0xe4000005, &w), 0);
	expect_window(&w, true, 0xe4000000, 64);
	/* Address bits below the window's size do not count. */
	assert_int_equal(pci_pciexbar_decode(0xec000001, &w), 0);
	expect_window(&w, true, 0xe0000000, 256);
	assert_int_equal(pci_pciexbar_decode(0xe0000000, &w), 0);
	assert_false(w.enabled);
	assert_int_equal(pci_pciexbar_decode(0xe0000007, &w), -1);
}

static void test_amd_mmio_cfg(void **state)
{
	struct pci_ecam_window w;

	/* 256 buses (bus range 8) at 0xe0000000, enabled. */
	assert_int_equal(pci_amd_mmio_cfg_decode(0xe0000021, &w), 0);
	expect_window(&w, true, 0xe0000000, 256);
	/* 16 buses at 0xf8000000; bits past 47 are not address. */
	assert_int_equal(pci_amd_mmio_cfg_decode(0xff000000f8000011ull, &w), 0);
	expect_window(&w, true, 0xf8000000, 16);
	assert_int_equal(pci_amd_mmio_cfg_decode(0, &w), 0);
	assert_false(w.enabled);
	assert_int_equal(pci_amd_mmio_cfg_decode(0xe0000025, &w), -1); /* 512 buses */
}

static void test_ecam_window_refusal(void **state)
{
	const struct pci_ecam_window on = { true, 0xb0000000, 256 }, off = { false, 0xb0000000, 256 };
	const struct pci_ecam_window small = { true, 0xb0000000, 64 };

	/* As lamina traps it: fine. */
	assert_null(pci_ecam_window_refusal(&on, 0, true, 0xb0000000));
	assert_null(pci_ecam_window_refusal(&on, 0xff, true, 0xb0000000));
	/* Moved, or decoding where lamina has no ECAM (MCFG missing or skipped). */
	assert_non_null(strstr(pci_ecam_window_refusal(&on, 0, true, 0xe0000000), "another base"));
	assert_non_null(strstr(pci_ecam_window_refusal(&on, 3, false, 0), "no ECAM window"));
	/* Not decoding, or not this bus: nothing to reach it through. */
	assert_null(pci_ecam_window_refusal(&off, 0, false, 0));
	assert_null(pci_ecam_window_refusal(&off, 0, true, 0xe0000000));
	assert_null(pci_ecam_window_refusal(&small, 64, false, 0));
	assert_non_null(pci_ecam_window_refusal(&small, 63, false, 0));
}

/* class_rev from base class, subclass, programming interface. */
#define CLASS(base, sub, prog_if) ((u32)(base) << 24 | (u32)(sub) << 16 | (u32)(prog_if) << 8 | 0x02)

static void expect_legacy(u32 class_rev, const char *word)
{
	const char *why = pci_legacy_decode(class_rev);

	assert_non_null(why);
	assert_non_null(strstr(why, word));
}

static void test_legacy_decode(void **state)
{
	expect_legacy(CLASS(0x03, 0x00, 0x00), "0xa0000-0xbffff");
	expect_legacy(CLASS(0x03, 0x00, 0x01), "VGA");  /* 8514-compatible */
	expect_legacy(CLASS(0x00, 0x01, 0x00), "VGA");  /* before class codes */
	expect_legacy(CLASS(0x06, 0x01, 0x00), "ISA");
	/* IDE: compatibility mode on either channel (bit 0 or bit 2 clear). */
	expect_legacy(CLASS(0x01, 0x01, 0x80), "0x1f0");  /* PIIX: both legacy */
	expect_legacy(CLASS(0x01, 0x01, 0x8a), "0x170");  /* switchable, legacy now */
	expect_legacy(CLASS(0x01, 0x01, 0x8e), "compatibility");  /* secondary native only */
	expect_legacy(CLASS(0x01, 0x01, 0x8b), "compatibility");  /* primary native only */
	assert_null(pci_legacy_decode(CLASS(0x01, 0x01, 0x8f))); /* both native */
	assert_null(pci_legacy_decode(CLASS(0x01, 0x01, 0x05)));
	/* Others decode their BARs only. */
	assert_null(pci_legacy_decode(CLASS(0x02, 0x00, 0x00)));  /* Ethernet */
	assert_null(pci_legacy_decode(CLASS(0x03, 0x80, 0x00)));  /* other display */
	assert_null(pci_legacy_decode(CLASS(0x03, 0x02, 0x00)));  /* 3D controller */
	assert_null(pci_legacy_decode(CLASS(0x01, 0x06, 0x01)));  /* AHCI */
	assert_null(pci_legacy_decode(CLASS(0x06, 0x00, 0x00)));  /* host bridge */
	assert_null(pci_legacy_decode(CLASS(0x06, 0x04, 0x00)));  /* PCI bridge */
	assert_null(pci_legacy_decode(CLASS(0x00, 0x00, 0x00)));
}

#define NB_CFG_CF8_EXT (1ull << 46)
/* Bus 1, device 2, function 3, register 0x144 in AMD's extended form:
 * enable, bits 11:8 of the register (1) in 27:24, bits 7:2 (0x44). */
#define CF8_EXT_144 (0x80000000u | 0x01000000u | 1u << 16 | 2u << 11 | 3u << 8 | 0x44u)

static void test_cf8_register(void **state)
{
	/* Intel: bits 27:24 are ignored, whatever an MSR of that number says. */
	assert_false(pci_cf8_ext(false, NB_CFG_CF8_EXT));
	/* AMD with EnableCf8ExtCfg clear (or the MSR faulted: 0): ignored. */
	assert_false(pci_cf8_ext(true, 0));
	assert_false(pci_cf8_ext(true, ~NB_CFG_CF8_EXT));
	/* AMD with it set: used. */
	assert_true(pci_cf8_ext(true, NB_CFG_CF8_EXT));

	assert_int_equal(pci_cf8_register(CF8_EXT_144, 0xcfc, false), 0x44);
	assert_int_equal(pci_cf8_register(CF8_EXT_144, 0xcfe, false), 0x46);
	assert_int_equal(pci_cf8_register(CF8_EXT_144, 0xcfc, true), 0x144);
	assert_int_equal(pci_cf8_register(CF8_EXT_144, 0xcff, true), 0x147);
	assert_int_equal(pci_cf8_register(CF8_EXT_144 | 0x0f000000u, 0xcfd,
					  pci_cf8_ext(true, NB_CFG_CF8_EXT)), 0xf45);
	/* Bits 1:0 of CF8 never count; the port gives the byte. */
	assert_int_equal(pci_cf8_register(0x80000003u, 0xcfc, true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem32),
		cmocka_unit_test(test_mem64),
		cmocka_unit_test(test_mem64_decoding_40_bits),
		cmocka_unit_test(test_mem32_upper_bits_zero),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_unimplemented),
		cmocka_unit_test(test_mem64_half_the_space),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_cf8_register),
		cmocka_unit_test(test_legacy_decode),
		cmocka_unit_test(test_pciexbar),
		cmocka_unit_test(test_amd_mmio_cfg),
		cmocka_unit_test(test_ecam_window_refusal),
		cmocka_unit_test_setup(test_ecam_accepted, set_home),
		cmocka_unit_test_setup(test_ecam_refused, set_home),
		cmocka_unit_test_setup(test_ecam_home, set_home),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
