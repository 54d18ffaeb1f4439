/* core/options.c: options registered with OPTION() in this file (the
 * linker section works on the host too), command lines parsed against
 * them, and the value parsers' edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <core/options.h>

#define MEM_DEFAULT (64 * MiB)

static u64 opt_mem = MEM_DEFAULT;
static bool opt_debug;
static u64 opt_count = 7;
static u64 opt_key = 0x5eed;

OPTION(mem, "mem", "<size: 123, 64K, 32M, 1G>", parse_size, &opt_mem,
       "memory kept for lamina");
OPTION(debug, "debug", "on|off", parse_bool, &opt_debug, "more messages");
OPTION(count, "count", "<number: decimal or 0x hex>", parse_u64, &opt_count,
       "a number");
OPTION_FAIL_CLOSED(key, "key", "<hex key>", parse_u64, &opt_key,
		   "protects the guest's data");

/* A parser that says what is wrong, through option_error(). */
static u64 opt_level = 3;

static int parse_level(const char *v, void *target)
{
	u64 n;

	if (parse_u64(v, &n))
		return -1; /* the form says enough */
	if (n > 5) {
		option_error("%llu is above the highest level, 5", (unsigned long long)n);
		return -1;
	}
	*(u64 *)target = n;
	return 0;
}

OPTION(level, "level", "<0..5>", parse_level, &opt_level, "how much to say");

/* A protecting option with a realistic name, for near misses. */
static u64 opt_conceal;
OPTION_FAIL_CLOSED(conceal, "conceal", "<number>", parse_u64, &opt_conceal,
		   "hides something from the guest");

/* Whether the loader is said to put the image's path first. */
static bool path_first;

#define MAX_MSGS 8

static struct {
	unsigned int n;
	char msg[MAX_MSGS][600];
} reports;

static void report(const char *msg, void *arg)
{
	assert_ptr_equal(arg, &reports);
	assert_true(reports.n < MAX_MSGS);
	assert_true(strlen(msg) < sizeof(reports.msg[0]));
	strcpy(reports.msg[reports.n++], msg);
}

static int reset(void **state)
{
	opt_mem = MEM_DEFAULT;
	opt_debug = false;
	opt_count = 7;
	opt_key = 0x5eed;
	opt_level = 3;
	opt_conceal = 0;
	path_first = false;
	memset(&reports, 0, sizeof(reports));
	return 0;
}

static bool parse(const char *cmdline)
{
	return options_parse(cmdline, path_first, report, &reports);
}

static void assert_defaults(void)
{
	assert_int_equal(opt_mem, MEM_DEFAULT);
	assert_false(opt_debug);
	assert_int_equal(opt_count, 7);
	assert_int_equal(opt_key, 0x5eed);
	assert_int_equal(opt_level, 3);
}

/* The message names the whole word, and "key=form" for bad values. */
static void assert_report(unsigned int i, const char *a, const char *b)
{
	assert_true(i < reports.n);
	if (!strstr(reports.msg[i], a) || (b && !strstr(reports.msg[i], b)))
		printf("# message %u: %s\n", i, reports.msg[i]);
	assert_non_null(strstr(reports.msg[i], a));
	if (b)
		assert_non_null(strstr(reports.msg[i], b));
}

/* ---- registration ---- */

static const struct option_desc *find(const char *name)
{
	for (const struct option_desc *o = options_begin(); o < options_end(); o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

static void test_registered(void **state)
{
	/* Exactly the options of this file, with what they declared. */
	assert_int_equal(options_end() - options_begin(), 6);
	const struct option_desc *mem = find("mem"), *key = find("key");
	assert_non_null(mem);
	assert_non_null(find("debug"));
	assert_non_null(find("count"));
	assert_non_null(key);
	assert_ptr_equal(mem->target, &opt_mem);
	assert_ptr_equal(mem->parse, parse_size);
	assert_false(mem->fail_closed);
	assert_string_equal(mem->help, "memory kept for lamina");
	assert_ptr_equal(key->target, &opt_key);
	assert_true(key->fail_closed);
	assert_ptr_equal(find("debug")->parse, parse_bool);
}

/* ---- whole command lines ---- */

static void test_parse_good(void **state)
{
	assert_true(parse("mem=32M debug=on count=0x10 key=0xdeadbeef"));
	assert_int_equal(reports.n, 0);
	assert_int_equal(opt_mem, 32 * MiB);
	assert_true(opt_debug);
	assert_int_equal(opt_count, 16);
	assert_int_equal(opt_key, 0xdeadbeef);
	/* Again: the last one wins. */
	assert_true(parse("mem=1G mem=4K debug=no debug=yes"));
	assert_int_equal(opt_mem, 4096);
	assert_true(opt_debug);
	assert_int_equal(reports.n, 0);
}

static void test_parse_empty(void **state)
{
	assert_true(parse(NULL));
	assert_true(parse(""));
	assert_true(parse(" \t\r\n  "));
	assert_int_equal(reports.n, 0);
	assert_defaults();
}

static void test_whitespace(void **state)
{
	assert_true(parse("  \t mem=4K\n\r debug=yes\t\tcount=12   "));
	assert_int_equal(reports.n, 0);
	assert_int_equal(opt_mem, 4096);
	assert_true(opt_debug);
	assert_int_equal(opt_count, 12);
	/* Space inside a value ends the word: "mem=4" then a bare "K". */
	assert_true(parse("x.elf mem=4 K"));
	assert_int_equal(opt_mem, 4);
	assert_int_equal(reports.n, 1);
	assert_report(0, "'K'", "key=value");
}

static void test_image_path(void **state)
{
	/* A first word without '=' that looks like a path is skipped. */
	assert_true(parse("/boot/lamina.elf mem=1G"));
	assert_int_equal(reports.n, 0);
	assert_int_equal(opt_mem, GiB);
	assert_true(parse("  lamina.elf"));
	assert_true(parse("build/lamina"));
	assert_int_equal(reports.n, 0);
	/* A later one is reported, and the rest still parsed. */
	assert_true(parse("lamina.elf mem=2M stray debug=1"));
	assert_int_equal(reports.n, 1);
	assert_report(0, "'stray'", "key=value");
	assert_int_equal(opt_mem, 2 * MiB);
	assert_true(opt_debug);
	/* Only the first word is exempt, even when it is an option. */
	reset(NULL);
	assert_true(parse("mem=8K /boot/lamina.elf"));
	assert_int_equal(reports.n, 1);
	assert_report(0, "'/boot/lamina.elf'", NULL);
	assert_int_equal(opt_mem, 8192);
}

static void test_first_word_not_path(void **state)
{
	/* A first word that does not look like a file name is an option
	 * word like any other. */
	assert_true(parse("lamina mem=2M"));
	assert_int_equal(reports.n, 1);
	assert_report(0, "'lamina'", "key=value");
	assert_int_equal(opt_mem, 2 * MiB);
	/* A device selector is never taken for a path ('.' or not). */
	reset(NULL);
	assert_false(parse("00:1f.2 mem=2M"));
	assert_report(0, "'00:1f.2'", "part of a device list");
	/* Unless the loader is known to put the path there. */
	reset(NULL);
	path_first = true;
	assert_true(parse("lamina mem=2M"));
	assert_true(parse("/tmp/a:b/lamina mem=2M"));
	assert_int_equal(reports.n, 0);
	/* Even then a first word with '=' is an option. */
	assert_true(parse("mem=4M"));
	assert_int_equal(opt_mem, 4 * MiB);
}

static void test_stray_device(void **state)
{
	/* A list written with a space: the rest would go unprotected. */
	assert_false(parse("conceal=3 00:1f.2 mem=2M"));
	assert_int_equal(reports.n, 1);
	assert_report(0, "option '00:1f.2': looks like part of a device list",
		      "comma-separated");
	assert_report(0, "refusing to start the guest", NULL);
	assert_int_equal(opt_conceal, 3);
	assert_int_equal(opt_mem, 2 * MiB);
	reset(NULL);
	assert_false(parse("x.elf 8086:10d3"));
	assert_report(0, "'8086:10d3'", "part of a device list");
	/* Without ':' a bare word is only reported. */
	reset(NULL);
	assert_true(parse("x.elf 001f2 ,"));
	assert_int_equal(reports.n, 2);
	assert_report(0, "'001f2'", "expected key=value");
}

/* Each word alone: parsed to ok, one message containing a and b. */
static void check_each(const char *const *words, unsigned int n, bool ok,
		       const char *a, const char *b)
{
	for (unsigned int i = 0; i < n; i++) {
		reset(NULL);
		assert_int_equal(parse(words[i]), ok);
		assert_int_equal(reports.n, 1);
		assert_report(0, a, b);
		assert_int_equal(opt_conceal, 0);
	}
}

static void test_near_miss(void **state)
{
	static const char *const refused[] = {
		"concael=1", "conceel=1", "conseal=1", "Conceal=1", "CONCEAL=1",
		"conceal:1", "concea=1", "concealx=1", "cnceal=1", "onceal=1",
		"coneal=1", "cocneal=1", "conceal", "concael",
	};
	check_each(refused, ARRAY_SIZE(refused), false, "did you mean conceal=?",
		   "refusing to start the guest");
	reset(NULL);
	assert_false(parse("x.elf concael=00:1f.2 mem=2M"));
	assert_string_equal(reports.msg[0],
			    "option 'concael=00:1f.2': unknown option 'concael' - did you "
			    "mean conceal=?; refusing to start the guest");
	assert_int_equal(opt_mem, 2 * MiB);
	/* Three edits away, or two from a short name: only reported. */
	static const char *const reported[] = {
		"concur=1", "nokey=1", "hide=1", "ceal=1",
	};
	check_each(reported, ARRAY_SIZE(reported), true, "unknown option", "known options");
	/* One edit from the three-letter "key" is refused. */
	reset(NULL);
	assert_false(parse("kex=1"));
	assert_report(0, "did you mean key=?", NULL);
}

static void test_unknown(void **state)
{
	assert_true(parse("bogus=1 mem=16M"));
	assert_int_equal(reports.n, 1);
	assert_report(0, "'bogus'", "known options");
	/* It lists every known option. */
	for (const struct option_desc *o = options_begin(); o < options_end(); o++)
		assert_non_null(strstr(strchr(reports.msg[0], ':') + 1, o->name));
	assert_int_equal(opt_mem, 16 * MiB);
	/* Names match exactly: no prefixes, no extensions, case matters. */
	reset(NULL);
	assert_true(parse("me=1 memx=1 MEM=1 =1"));
	assert_int_equal(reports.n, 4);
	assert_report(0, "'me'", "unknown");
	assert_report(1, "'memx'", "unknown");
	assert_report(2, "'MEM'", "unknown");
	assert_report(3, "''", "unknown");
	assert_defaults();
}

static void test_malformed(void **state)
{
	assert_true(parse("mem=banana"));
	assert_int_equal(reports.n, 1);
	assert_report(0, "mem=banana", "mem=<size: 123, 64K, 32M, 1G>");
	assert_report(0, "default", NULL);
	assert_defaults();

	static const char *const bad[] = {
		"mem=", "mem=12Q", "mem=1=2", "mem=-1", "debug=maybe", "debug=",
		"count=1K", "count=0x", "count=99999999999999999999",
	};
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		reset(NULL);
		assert_true(parse(bad[i]));
		assert_int_equal(reports.n, 1);
		char name[16], expected[80];
		snprintf(name, sizeof(name), "%.*s", (int)(strchr(bad[i], '=') - bad[i]),
			 bad[i]);
		snprintf(expected, sizeof(expected), "%s=%s", name, find(name)->form);
		assert_report(0, bad[i], expected);
		assert_defaults();
	}
}

static void test_keeps_earlier_value(void **state)
{
	/* A bad value after a good one leaves the good one, and says so. */
	assert_true(parse("mem=64M mem=banana debug=x"));
	assert_int_equal(reports.n, 2);
	assert_report(0, "option 'mem=banana'", "; keeping mem=64M");
	assert_null(strstr(reports.msg[0], "default"));
	assert_report(1, "option 'debug=x'", "; using the default");
	assert_int_equal(opt_mem, 64 * MiB);
	/* The last good one is named, and a good one after a bad one wins. */
	reset(NULL);
	assert_true(parse("mem=1M mem=2M mem= mem=3M"));
	assert_report(0, "option 'mem='", "; keeping mem=2M");
	assert_int_equal(opt_mem, 3 * MiB);
	/* A new parse starts afresh. */
	reset(NULL);
	assert_true(parse("mem=zz"));
	assert_report(0, "using the default", NULL);
}

static void test_value_too_long(void **state)
{
	char line[400] = "mem=";

	memset(line + 4, '1', 300);
	assert_true(parse(line));
	assert_int_equal(reports.n, 1);
	assert_report(0, "mem=", "expected mem=");
	assert_defaults();
	/* Leading zeros are still a short number when they fit. */
	memset(line + 4, '0', 200);
	strcpy(line + 204, "5K");
	assert_true(parse(line));
	assert_int_equal(reports.n, 1);
	assert_int_equal(opt_mem, 5 * KiB);
}

static void test_fail_closed(void **state)
{
	/* A malformed fail-closed option: false, target kept, the rest of
	 * the line still parsed. */
	assert_false(parse("key=zz mem=1M"));
	assert_int_equal(reports.n, 1);
	assert_report(0, "key=zz", "key=<hex key>");
	assert_report(0, "refusing", NULL);
	assert_int_equal(opt_key, 0x5eed);
	assert_int_equal(opt_mem, MiB);
	/* A good value later does not undo the refusal. */
	reset(NULL);
	assert_false(parse("key= key=0x1234"));
	assert_int_equal(opt_key, 0x1234);
	/* Other problems do not make it fail. */
	reset(NULL);
	assert_true(parse("key=0x99 mem=x nokey=1 stray"));
	assert_int_equal(reports.n, 3);
	assert_int_equal(opt_key, 0x99);
}

static void test_parser_detail(void **state)
{
	/* What the parser said goes between the word and the form. */
	assert_true(parse("level=9 level=x level=4"));
	assert_int_equal(reports.n, 2);
	assert_string_equal(reports.msg[0], "option 'level=9': 9 is above the highest "
			    "level, 5; expected level=<0..5>; using the default");
	/* It does not stick to the next bad value. */
	assert_string_equal(reports.msg[1],
			    "option 'level=x': expected level=<0..5>; using the default");
	assert_int_equal(opt_level, 4);
	reset(NULL);
	assert_true(parse("level=6 mem=zz level="));
	assert_int_equal(reports.n, 3);
	assert_null(strstr(reports.msg[1], "above"));
	assert_null(strstr(reports.msg[2], "above"));
	assert_int_equal(opt_level, 3);
}

/* ---- value parsers ---- */

struct num_case {
	const char *text;
	int ret;
	u64 value;
};

static void check_cases(int (*fn)(const char *, void *), const struct num_case *c,
			unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		u64 v = 0xabcdef;
		int r = fn(c[i].text, &v);
		if (r != c[i].ret || v != (r ? 0xabcdef : c[i].value))
			printf("# \"%s\": %d %#llx\n", c[i].text, r, (unsigned long long)v);
		assert_int_equal(r, c[i].ret);
		assert_int_equal(v, r ? 0xabcdef : c[i].value);
	}
}

static void test_parse_size(void **state)
{
	static const struct num_case cases[] = {
		{ "0", 0, 0 },
		{ "123", 0, 123 },
		{ "64K", 0, 64 * KiB },
		{ "64k", 0, 64 * KiB },
		{ "32M", 0, 32 * MiB },
		{ "32m", 0, 32 * MiB },
		{ "1G", 0, GiB },
		{ "3g", 0, 3 * GiB },
		{ "0K", 0, 0 },
		{ "0x10M", 0, 16 * MiB },
		{ "0X1fK", 0, 31 * KiB },
		{ "007", 0, 7 }, /* decimal, not octal */
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -1, 0 },
		{ "99999999999999999999", -1, 0 },
		{ "0xffffffffffffffff", 0, UINT64_MAX },
		{ "0x10000000000000000", -1, 0 },
		{ "17179869183G", 0, 17179869183ull << 30 },
		{ "17179869184G", -1, 0 }, /* 2^64 */
		{ "18014398509481983K", 0, 18014398509481983ull << 10 },
		{ "18014398509481984K", -1, 0 },
		{ "0x3ffffffffffM", 0, 0x3ffffffffffull << 20 },
		{ "0x100000000000M", -1, 0 },
		{ "", -1, 0 },
		{ "K", -1, 0 },
		{ "0x", -1, 0 },
		{ "0xK", -1, 0 },
		{ "1KB", -1, 0 },
		{ "1KK", -1, 0 },
		{ "1T", -1, 0 },
		{ "1.5G", -1, 0 },
		{ "-1", -1, 0 },
		{ "+1", -1, 0 },
		{ " 1", -1, 0 },
		{ "1 ", -1, 0 },
		{ "12a", -1, 0 },
	};

	check_cases(parse_size, cases, ARRAY_SIZE(cases));
}

static void test_parse_u64(void **state)
{
	static const struct num_case cases[] = {
		{ "0", 0, 0 },
		{ "42", 0, 42 },
		{ "00012", 0, 12 },
		{ "0x0", 0, 0 },
		{ "0x1f", 0, 0x1f },
		{ "0X1F", 0, 0x1f },
		{ "0xDeadBeef", 0, 0xdeadbeef },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -1, 0 },
		{ "18446744073709551620", -1, 0 },
		{ "0xffffffffffffffff", 0, UINT64_MAX },
		{ "0x0000000000000000ffffffffffffffff", 0, UINT64_MAX },
		{ "0x10000000000000000", -1, 0 },
		{ "", -1, 0 },
		{ "0x", -1, 0 },
		{ "x1", -1, 0 },
		{ "1K", -1, 0 },
		{ "12a", -1, 0 },
		{ "0xg", -1, 0 },
		{ "1f", -1, 0 },
		{ "-0", -1, 0 },
		{ " 5", -1, 0 },
	};

	check_cases(parse_u64, cases, ARRAY_SIZE(cases));
}

static void test_parse_bool(void **state)
{
	static const char *const yes[] = { "1", "on", "yes" };
	static const char *const no[] = { "0", "off", "no" };
	static const char *const bad[] = { "", "2", "o", "onn", "yess", "01", " on", "on " };
	bool b;

	for (unsigned int i = 0; i < ARRAY_SIZE(yes); i++) {
		b = false;
		assert_int_equal(parse_bool(yes[i], &b), 0);
		assert_true(b);
		assert_int_equal(parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		b = true;
		assert_int_equal(parse_bool(bad[i], &b), -1);
		assert_true(b);
		b = false;
		assert_int_equal(parse_bool(bad[i], &b), -1);
		assert_false(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_registered, reset),
		cmocka_unit_test_setup(test_parse_good, reset),
		cmocka_unit_test_setup(test_parse_empty, reset),
		cmocka_unit_test_setup(test_whitespace, reset),
		cmocka_unit_test_setup(test_image_path, reset),
		cmocka_unit_test_setup(test_first_word_not_path, reset),
		cmocka_unit_test_setup(test_stray_device, reset),
		cmocka_unit_test_setup(test_near_miss, reset),
		cmocka_unit_test_setup(test_unknown, reset),
		cmocka_unit_test_setup(test_malformed, reset),
		cmocka_unit_test_setup(test_keeps_earlier_value, reset),
		cmocka_unit_test_setup(test_value_too_long, reset),
		cmocka_unit_test_setup(test_fail_closed, reset),
		cmocka_unit_test_setup(test_parser_detail, reset),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_bool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
