/* core/log_limit.c with a clock and a log of the test's own: the burst
 * passes, the first drop is announced once, a later window starts afresh
 * and first reports how many were dropped, console-only limits keep their
 * notices off the ring, a clock set back starts a window, and threads
 * hitting one limit at once are all counted. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <core/log.h>
#include <core/time.h>

#include "host_env.h"

#define NS_PER_S 1000000000ull

static u64 now_ns;
static unsigned int ring_lines, console_lines;
static char last[512];
static unsigned long long dropped_reported; /* sum of "N ... were dropped" */
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

u64 time_ns(void)
{
	return __atomic_load_n(&now_ns, __ATOMIC_RELAXED);
}

static void record(bool ring, const char *fmt, va_list ap)
{
	unsigned int n;
	char what[64];

	pthread_mutex_lock(&record_lock);
	vsnprintf(last, sizeof(last), fmt, ap);
	if (sscanf(last, "%u messages about %63s", &n, what) == 2 && strstr(last, "were dropped"))
		dropped_reported += n;
	if (ring)
		ring_lines++;
	else
		console_lines++;
	pthread_mutex_unlock(&record_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(true, fmt, ap);
	va_end(ap);
}

void log_console(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(false, fmt, ap);
	va_end(ap);
}

static int reset(void **state)
{
	now_ns = 1000;
	ring_lines = console_lines = 0;
	dropped_reported = 0;
	last[0] = 0;
	return 0;
}

static unsigned int pass_n(struct log_limit *l, unsigned int n)
{
	unsigned int passed = 0;

	for (unsigned int i = 0; i < n; i++)
		passed += log_limit_pass(l);
	return passed;
}

static void test_burst_then_one_notice(void **state)
{
	struct log_limit l = LOG_LIMIT("widgets");

	assert_int_equal(pass_n(&l, LOG_LIMIT_BURST), LOG_LIMIT_BURST);
	assert_int_equal(ring_lines, 0);
	assert_false(log_limit_pass(&l));
	assert_int_equal(ring_lines, 1);
	assert_non_null(strstr(last, "more than 10 messages about widgets in 5 s"));
	assert_int_equal(pass_n(&l, 100), 0);
	assert_int_equal(ring_lines, 1); /* announced once */
}

static void test_next_window_reports_drops(void **state)
{
	struct log_limit l = LOG_LIMIT("widgets");

	pass_n(&l, LOG_LIMIT_BURST + 25);
	now_ns += LOG_LIMIT_WINDOW_S * NS_PER_S - 1; /* still the first window */
	assert_false(log_limit_pass(&l));
	assert_int_equal(ring_lines, 1);
	now_ns += 1;
	assert_true(log_limit_pass(&l));
	assert_int_equal(ring_lines, 2);
	assert_non_null(strstr(last, "26 messages about widgets were dropped"));
	assert_int_equal(pass_n(&l, LOG_LIMIT_BURST - 1), LOG_LIMIT_BURST - 1);
	assert_int_equal(ring_lines, 2); /* a quiet window has nothing to report */
	assert_false(log_limit_pass(&l));
}

static void test_quiet_window_reports_nothing(void **state)
{
	struct log_limit l = LOG_LIMIT("widgets");

	pass_n(&l, 3);
	now_ns += 60 * NS_PER_S;
	assert_int_equal(pass_n(&l, LOG_LIMIT_BURST), LOG_LIMIT_BURST);
	assert_int_equal(ring_lines, 0);
}

/* The guest may write the TSC back: a window is still 5 s from where the
 * clock now is, and the limit still holds in it. */
static void test_clock_back(void **state)
{
	struct log_limit l = LOG_LIMIT("widgets");

	now_ns = 100 * NS_PER_S;
	pass_n(&l, LOG_LIMIT_BURST + 3);
	now_ns = 1 * NS_PER_S;
	assert_true(log_limit_pass(&l));
	assert_non_null(strstr(last, "3 messages about widgets were dropped"));
	assert_int_equal(pass_n(&l, 50), LOG_LIMIT_BURST - 1);
	now_ns += LOG_LIMIT_WINDOW_S * NS_PER_S;
	assert_true(log_limit_pass(&l));
}

static void test_console_only(void **state)
{
	struct log_limit l = LOG_LIMIT_CONSOLE("hidden things");

	pass_n(&l, LOG_LIMIT_BURST + 5);
	now_ns += LOG_LIMIT_WINDOW_S * NS_PER_S;
	assert_true(log_limit_pass(&l));
	assert_int_equal(ring_lines, 0);
	assert_int_equal(console_lines, 2);
	assert_non_null(strstr(last, "5 messages about hidden things were dropped"));
}

/* Each thread calls THREAD_CALLS times while one of them moves the clock
 * on: across the windows, the calls let through and the drops reported
 * add up to every call, none lost or counted twice. */
#define THREADS 8
#define THREAD_CALLS 20000

static struct log_limit shared = LOG_LIMIT("threads");
static unsigned int shared_passed;

static void hammer(void *ctx, unsigned int id)
{
	for (unsigned int i = 0; i < THREAD_CALLS; i++) {
		if (log_limit_pass(&shared))
			__atomic_add_fetch(&shared_passed, 1, __ATOMIC_RELAXED);
		if (id == 1 && i % 1000 == 999)
			__atomic_add_fetch(&now_ns, LOG_LIMIT_WINDOW_S * NS_PER_S, __ATOMIC_RELAXED);
	}
}

static void test_threads(void **state)
{
	unsigned int windows = THREAD_CALLS / 1000 + 1;

	assert_true(host_run_threads(THREADS, hammer, NULL));
	/* Close the last window: its drops are reported with the next pass. */
	now_ns += LOG_LIMIT_WINDOW_S * NS_PER_S;
	assert_true(log_limit_pass(&shared));
	shared_passed++;
	assert_int_equal(shared_passed + dropped_reported, THREADS * THREAD_CALLS + 1);
	assert_true(shared_passed <= (windows + 1) * LOG_LIMIT_BURST);
	assert_true(shared_passed > LOG_LIMIT_BURST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_burst_then_one_notice, reset),
		cmocka_unit_test_setup(test_next_window_reports_drops, reset),
		cmocka_unit_test_setup(test_quiet_window_reports_nothing, reset),
		cmocka_unit_test_setup(test_clock_back, reset),
		cmocka_unit_test_setup(test_console_only, reset),
		cmocka_unit_test_setup(test_threads, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
