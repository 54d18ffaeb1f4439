/* arch/x86/emulate/breakpoints.c: which of DR0-DR3 an access lamina
 * makes for the guest hits (SDM Vol. 3B 18.2.4-18.2.5): enables L/G,
 * R/W 01 (writes) and 11 (reads and writes; 00 execute and 10 I/O never
 * hit a data access), LEN 1/2/4/8 with the address's low bits ignored,
 * any overlap with the access. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <x86/emulate.h>

#include "host_env.h"

enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_RW = 3 };
enum { LEN1 = 0, LEN2 = 1, LEN8 = 2, LEN4 = 3 };

/* DR7 with breakpoint n enabled (local, or global) as given. */
static u64 dr7_bp(unsigned int n, bool global, unsigned int rw, unsigned int len)
{
	return 0x400 | BIT(2 * n + global) | ((u64)rw << (16 + 4 * n)) |
	       ((u64)len << (18 + 4 * n));
}

static void test_armed(void **state)
{
	assert_int_equal(x86_data_breakpoints_armed(0x400), 0);
	assert_int_equal(x86_data_breakpoints_armed(dr7_bp(0, false, RW_WRITE, LEN4)), 1);
	assert_int_equal(x86_data_breakpoints_armed(dr7_bp(3, true, RW_RW, LEN1)), 8);
	assert_int_equal(x86_data_breakpoints_armed(dr7_bp(1, false, RW_EXEC, LEN1)), 0);
	assert_int_equal(x86_data_breakpoints_armed(dr7_bp(2, true, RW_IO, LEN2)), 0);
	/* R/W set but neither L nor G: not armed. */
	assert_int_equal(x86_data_breakpoints_armed(0x400 | (u64)RW_RW << 16), 0);
}

static void test_read_write(void **state)
{
	u64 dr[4] = { 0x1000 };
	u64 w = dr7_bp(0, false, RW_WRITE, LEN4), rw = dr7_bp(0, false, RW_RW, LEN4);

	assert_int_equal(x86_data_breakpoints_hit(w, dr, 0x1000, 4, true), 1);
	assert_int_equal(x86_data_breakpoints_hit(w, dr, 0x1000, 4, false), 0);
	assert_int_equal(x86_data_breakpoints_hit(rw, dr, 0x1000, 4, false), 1);
	assert_int_equal(x86_data_breakpoints_hit(rw, dr, 0x1000, 4, true), 1);
	assert_int_equal(x86_data_breakpoints_hit(dr7_bp(0, false, RW_EXEC, LEN1), dr, 0x1000,
						  1, true), 0);
}

static void test_overlap(void **state)
{
	u64 dr[4] = { 0, 0, 0x2003 }; /* LEN 4 ignores the low two bits: 0x2000-0x2003 */
	u64 dr7 = dr7_bp(2, true, RW_WRITE, LEN4);

	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x2000, 1, true), 4);
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x2003, 1, true), 4);
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x1ffc, 4, true), 0);
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x1ffd, 4, true), 4);
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x2004, 8, true), 0);
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x1ff0, 64, true), 4);
}

static void test_lengths(void **state)
{
	u64 dr[4] = { 0x3000, 0x3010, 0x3020, 0x3030 };
	u64 dr7 = dr7_bp(0, false, RW_RW, LEN1) | dr7_bp(1, false, RW_RW, LEN2) |
		  dr7_bp(2, false, RW_RW, LEN4) | dr7_bp(3, false, RW_RW, LEN8);

	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x3001, 1, false), 0);
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x3011, 1, false), 2);
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x3012, 1, false), 0);
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x3023, 1, false), 4);
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x3037, 1, false), 8);
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x3038, 1, false), 0);
	/* One access over all four. */
	assert_int_equal(x86_data_breakpoints_hit(dr7, dr, 0x3000, 0x40, false), 0xf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_armed),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
