/* core/pci/pci_select.c: the lists of PCI functions that conceal=,
 * nodma= and nomsi= name, parsed through the real option parser (an
 * option registered here as the drivers register theirs), the functions
 * they match and the fail-closed check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <core/log.h>
#include <core/options.h>
#include <core/pci.h>

static struct pci_select sel = { .option = "sel", .verb = "selected" };
OPTION_FAIL_CLOSED(sel, "sel", PCI_SELECT_FORM, pci_select_parse, &sel, "test list");

static char last_msg[600];
static unsigned int nmsgs;

static void report(const char *msg, void *arg)
{
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
	nmsgs++;
}

/* pci_select_check's messages. */
void log_console(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
	nmsgs++;
}

static int reset(void **state)
{
	sel.n = 0;
	memset(sel.e, 0, sizeof(sel.e));
	last_msg[0] = 0;
	nmsgs = 0;
	return 0;
}

static bool parse(const char *cmdline)
{
	return options_parse(cmdline, false, report, NULL);
}

static void assert_bdf(unsigned int i, u8 bus, u8 dev, u8 fn)
{
	assert_false(sel.e[i].by_id);
	assert_int_equal(sel.e[i].bus, bus);
	assert_int_equal(sel.e[i].dev, dev);
	assert_int_equal(sel.e[i].fn, fn);
}

static void assert_id(unsigned int i, u16 vendor, u16 device)
{
	assert_true(sel.e[i].by_id);
	assert_int_equal(sel.e[i].vendor, vendor);
	assert_int_equal(sel.e[i].device, device);
}

/* One word or several: the option given again adds to the list, so
 * the first word's functions are not dropped silently. */
static void test_repeated_option_appends(void **state)
{
	static const char *const lines[] = {
		"sel=01:00.0,8086:10d3,1f:1f.7",
		"sel=01:00.0 sel=8086:10d3,1f:1f.7",
		"sel=01:00.0 sel=8086:10d3 sel=1f:1f.7",
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(lines); i++) {
		reset(NULL);
		assert_true(parse(lines[i]));
		assert_int_equal(nmsgs, 0);
		assert_int_equal(sel.n, 3);
		assert_bdf(0, 1, 0, 0);
		assert_id(1, 0x8086, 0x10d3);
		assert_bdf(2, 0x1f, 0x1f, 7);
	}
}

/* 16 entries in all fit; a word that would make 17 is refused whole (the
 * guest does not start), and the list keeps what it had. */
static void test_combined_list_too_long(void **state)
{
	char a[200], b[200];
	int n = 0;

	for (unsigned int i = 0; i < 10; i++)
		n += snprintf(a + n, sizeof(a) - n, "%s%02x:00.0", i ? "," : "sel=", i);
	n = 0;
	for (unsigned int i = 0; i < 6; i++)
		n += snprintf(b + n, sizeof(b) - n, "%s%02x:01.0", i ? "," : "sel=", i);
	char line[420];
	snprintf(line, sizeof(line), "%s %s", a, b);
	assert_true(parse(line));
	assert_int_equal(sel.n, PCI_SELECT_MAX);
	assert_bdf(15, 5, 1, 0);

	reset(NULL);
	snprintf(line, sizeof(line), "%s %s,06:01.0", a, b);
	assert_false(parse(line));
	assert_int_equal(nmsgs, 1);
	assert_non_null(strstr(last_msg, "more than 16 entries with the earlier ones"));
	assert_non_null(strstr(last_msg, "refusing to start the guest"));
	assert_int_equal(sel.n, 10);
	/* Alone, 17 entries say so without "earlier". */
	reset(NULL);
	snprintf(line, sizeof(line), "%s,%s,06:01.0", a, b + 4);
	assert_false(parse(line));
	assert_non_null(strstr(last_msg, "more than 16 entries;"));
	assert_int_equal(sel.n, 0);
}

/* A bad entry in a later word leaves the earlier words' entries. */
static void test_bad_later_word(void **state)
{
	assert_false(parse("sel=01:00.0 sel=02:00.0,zz"));
	assert_int_equal(sel.n, 1);
	assert_bdf(0, 1, 0, 0);
	assert_non_null(strstr(last_msg, "entry 'zz'"));
}

static struct pci_func func(u8 bus, u8 dev, u8 fn, u16 vendor, u16 device)
{
	return (struct pci_func){ .bus = bus, .dev = dev, .fn = fn, .vendor = vendor,
				  .device = device };
}

/* Two entries naming one function (its address and its vendor:device):
 * attaching to it does both; before, only the first was marked and the
 * guest was refused. */
static void test_two_entries_one_function(void **state)
{
	struct pci_func f = func(1, 0, 0, 0x8086, 0x10d3);

	assert_true(parse("sel=01:00.0,8086:10d3"));
	assert_true(pci_select_names(&sel, &f));
	pci_select_result(&sel, &f, true);
	assert_int_equal(pci_select_check(&sel), 0);
	assert_int_equal(nmsgs, 0);
}

/* An entry no attached function matched fails the check, named. */
static void test_entry_left_undone(void **state)
{
	struct pci_func f = func(1, 0, 0, 0x8086, 0x10d3), g = func(0, 2, 0, 0x1234, 0x5678);

	assert_true(parse("sel=01:00.0,8086:10d4"));
	assert_false(pci_select_names(&sel, &g));
	pci_select_result(&sel, &f, true);
	assert_int_equal(pci_select_check(&sel), -1);
	assert_int_equal(nmsgs, 1);
	assert_string_equal(last_msg, "sel=: no PCI function 8086:10d4 was selected; refusing to "
			    "start the guest");
	/* A bus-device-function entry names segment 0 only. */
	f.seg = 1;
	reset(NULL);
	assert_true(parse("sel=01:00.0"));
	assert_false(pci_select_names(&sel, &f));
}

/* One entry, two functions: the second failed to attach, so the entry
 * fails whatever the first did, in either order; its message says so. */
static void test_entry_with_a_failed_function(void **state)
{
	struct pci_func f = func(1, 0, 0, 0x8086, 0x10d3), g = func(2, 0, 0, 0x8086, 0x10d3);

	for (int order = 0; order < 2; order++) {
		reset(NULL);
		assert_true(parse("sel=8086:10d3"));
		pci_select_result(&sel, order ? &g : &f, order == 0);
		pci_select_result(&sel, order ? &f : &g, order != 0);
		assert_int_equal(pci_select_check(&sel), -1);
		assert_int_equal(nmsgs, 1);
		assert_string_equal(last_msg, "sel=: a PCI function 8086:10d3 could not be selected "
				    "(see above); refusing to start the guest");
	}
	reset(NULL);
	assert_true(parse("sel=02:00.0"));
	pci_select_result(&sel, &g, false);
	assert_int_equal(pci_select_check(&sel), -1);
	assert_non_null(strstr(last_msg, "a PCI function at 02:00.0 could not be selected"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_repeated_option_appends, reset),
		cmocka_unit_test_setup(test_combined_list_too_long, reset),
		cmocka_unit_test_setup(test_bad_later_word, reset),
		cmocka_unit_test_setup(test_two_entries_one_function, reset),
		cmocka_unit_test_setup(test_entry_left_undone, reset),
		cmocka_unit_test_setup(test_entry_with_a_failed_function, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
