/* core/acpi_sleep_aml.c: the \_Sx packages of AML as firmware writes
 * them (QEMU's form, Bochs BIOS's with a root prefix, byte and word
 * constants), the next one found after the first, and what it must pass
 * over: a method of that name, a name without a package, types above 7,
 * and packages cut off by the end of the table (ASan checks the reads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <core/acpi_sleep.h>

/* Name(_S3_, Package(4){One, One, Zero, Zero}) as QEMU builds it. */
static const u8 qemu_s3[] = { 0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x04, 0x01, 0x01, 0x00,
			      0x00 };
/* Name(\_S5_, Package(4){0x05, 0x07, 0, 0}) with BytePrefix constants. */
static const u8 root_s5[] = { 0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x0a, 0x04, 0x0a, 0x05,
			      0x0a, 0x07, 0x00, 0x00 };

static void test_qemu_form(void **state)
{
	struct aml_sleep_pkg pkg;

	assert_true(aml_find_sleep_pkg(qemu_s3, sizeof(qemu_s3), 0, '3', &pkg));
	assert_int_equal(pkg.slp_typ[0], 1);
	assert_int_equal(pkg.slp_typ[1], 1);
	assert_int_equal(pkg.name_at, 1);
	assert_false(aml_find_sleep_pkg(qemu_s3, sizeof(qemu_s3), 0, '4', &pkg));
	assert_false(aml_find_sleep_pkg(qemu_s3, sizeof(qemu_s3), 2, '3', &pkg));
}

static void test_root_prefix_and_byte_constants(void **state)
{
	struct aml_sleep_pkg pkg;

	assert_true(aml_find_sleep_pkg(root_s5, sizeof(root_s5), 0, '5', &pkg));
	assert_int_equal(pkg.slp_typ[0], 5);
	assert_int_equal(pkg.slp_typ[1], 7);
	assert_int_equal(pkg.name_at, 2);
}

/* A word constant, and a second definition found after the first. */
static void test_word_constant_and_next(void **state)
{
	u8 aml[64];
	size_t n = 0;
	struct aml_sleep_pkg pkg;
	static const u8 word_s3[] = { 0x08, '_', 'S', '3', '_', 0x12, 0x07, 0x02, 0x0b, 0x03, 0x00,
				      0x00 };

	memcpy(aml + n, qemu_s3, sizeof(qemu_s3));
	n += sizeof(qemu_s3);
	memcpy(aml + n, word_s3, sizeof(word_s3));
	n += sizeof(word_s3);
	assert_true(aml_find_sleep_pkg(aml, n, 0, '3', &pkg));
	assert_int_equal(pkg.name_at, 1);
	assert_true(aml_find_sleep_pkg(aml, n, pkg.name_at + 4, '3', &pkg));
	assert_int_equal(pkg.name_at, sizeof(qemu_s3) + 1);
	assert_int_equal(pkg.slp_typ[0], 3);
	assert_int_equal(pkg.slp_typ[1], 0);
	assert_false(aml_find_sleep_pkg(aml, n, pkg.name_at + 4, '3', &pkg));
}

static void test_passed_over(void **state)
{
	struct aml_sleep_pkg pkg;
	/* Method(_S3_) { ... }: MethodOp, PkgLength, name, flags. */
	static const u8 method[] = { 0x14, 0x08, '_', 'S', '3', '_', 0x00, 0xa4, 0x01 };
	/* Name(_S3_, 0x01): not a package. */
	static const u8 integer[] = { 0x08, '_', 'S', '3', '_', 0x0a, 0x01 };
	/* Package(){0x09, 0x01}: no 3-bit sleep type. */
	static const u8 too_big[] = { 0x08, '_', 'S', '3', '_', 0x12, 0x05, 0x02, 0x0a, 0x09, 0x01 };
	/* One element only. */
	static const u8 one[] = { 0x08, '_', 'S', '3', '_', 0x12, 0x03, 0x01, 0x01 };
	/* "_S3_" at the very start: no room for a NameOp. */
	static const u8 at_start[] = { '_', 'S', '3', '_', 0x12, 0x04, 0x02, 0x01, 0x01 };

	assert_false(aml_find_sleep_pkg(method, sizeof(method), 0, '3', &pkg));
	assert_false(aml_find_sleep_pkg(integer, sizeof(integer), 0, '3', &pkg));
	assert_false(aml_find_sleep_pkg(too_big, sizeof(too_big), 0, '3', &pkg));
	assert_false(aml_find_sleep_pkg(one, sizeof(one), 0, '3', &pkg));
	assert_false(aml_find_sleep_pkg(at_start, sizeof(at_start), 0, '3', &pkg));
}

/* Every prefix of both packages, each copied to a buffer of exactly its
 * length: found only when whole enough to hold both types. */
static void test_cut_off(void **state)
{
	struct aml_sleep_pkg pkg;
	const struct {
		const u8 *aml;
		size_t len, needed;
		char digit;
	} cases[] = { { qemu_s3, sizeof(qemu_s3), 10, '3' }, { root_s5, sizeof(root_s5), 13, '5' } };

	for (size_t c = 0; c < 2; c++) {
		for (size_t len = 0; len <= cases[c].len; len++) {
			u8 *copy = test_malloc(len ? len : 1);
			memcpy(copy, cases[c].aml, len);
			assert_int_equal(aml_find_sleep_pkg(copy, len, 0, cases[c].digit, &pkg),
					 len >= cases[c].needed);
			test_free(copy);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_form),
		cmocka_unit_test(test_root_prefix_and_byte_constants),
		cmocka_unit_test(test_word_constant_and_next),
		cmocka_unit_test(test_passed_over),
		cmocka_unit_test(test_cut_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
