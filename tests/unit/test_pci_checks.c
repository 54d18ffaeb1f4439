/* core/pci/pci_checks.c: BAR sizes from what the BAR reads back after
 * all-ones was written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <core/pci_checks.h>

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
