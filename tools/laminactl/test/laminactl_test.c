/* laminactl's commands against a simulated lamina (fake_lamina.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../laminactl.h"
#include "fake_lamina.h"

/* Runs a command with stdout going to a temporary file; returns what it
 * printed (caller frees) and its exit status in *status. */
static char *run_captured(int (*cmd)(const struct lamina_info *), int *status)
{
	struct lamina_info info;
	FILE *tmp = tmpfile();
	int saved = dup(1);
	long len;
	char *text;

	assert_non_null(tmp);
	fflush(stdout);
	dup2(fileno(tmp), 1);
	*status = lamina_probe(&info) == 0 ? cmd(&info) : LCTL_FAIL;
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	len = (long)lseek(fileno(tmp), 0, SEEK_END); /* written through fd 1 */
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	rewind(tmp);
	assert_int_equal(fread(text, 1, (size_t)len, tmp), (size_t)len);
	fclose(tmp);
	return text;
}

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.mode = FAKE_LAMINA;
	fake.ncpus = 2;
	fake.log = "";
	return 0;
}

static void absent_when_the_instruction_faults(void **state)
{
	struct lamina_info info;

	(void)state;
	fake.mode = FAKE_FAULT;
	assert_int_equal(lamina_probe(&info), -1);
}

static void absent_under_another_hypervisor(void **state)
{
	struct lamina_info info;

	(void)state;
	fake.mode = FAKE_FOREIGN;
	assert_int_equal(lamina_probe(&info), -1);
}

static void version_names_back_end_and_cpus(void **state)
{
	int status;
	char *out;

	(void)state;
	fake.ncpus = 4;
	out = run_captured(cmd_version, &status);
	assert_int_equal(status, LCTL_OK);
	assert_non_null(strstr(out, "lamina version: 0.1.0\n"));
	assert_non_null(strstr(out, "back end: AMD-V (SVM)\n"));
	assert_non_null(strstr(out, "cpus: 4\n"));
	free(out);
}

static void meminfo_prints_an_e820_style_range(void **state)
{
	int status;
	char *out;

	(void)state;
	fake.mem_base = 0x17e000000ull; /* both halves */
	fake.mem_size = 32u << 20;
	out = run_captured(cmd_meminfo, &status);
	assert_int_equal(status, LCTL_OK);
	assert_string_equal(out, "lamina memory: [mem 0x000000017e000000-0x000000017fffffff] "
				 "32768 KiB\n");
	free(out);
}

static void stats_table_has_every_reason_and_totals(void **state)
{
	int status;
	char *out, *line;

	(void)state;
	fake.counts[0][LAMINA_EXIT_CPUID] = 1200;
	fake.counts[0][LAMINA_EXIT_IO] = 0x100000002ull; /* both halves */
	fake.counts[1][LAMINA_EXIT_CPUID] = 34;
	fake.counts[1][LAMINA_EXIT_OTHER] = 5; /* the last reason: a partial group */
	out = run_captured(cmd_stats, &status);
	assert_int_equal(status, LCTL_OK);
	assert_non_null(strstr(out, "reason               cpu0       cpu1      total\n"));
	assert_non_null(strstr(out, "\ncpuid                1200         34       1234\n"));
	assert_non_null(strstr(out, "\nio             4294967298          0 4294967298\n"));
	assert_non_null(strstr(out, "\nother                   0          5          5\n"));
	assert_non_null(strstr(out, "\ntotal          4294968498         39 4294968537\n"));
	assert_non_null(strstr(out, "\nnested-fault            0          0          0\n"));
	line = out;
	for (int rows = 0; rows < LAMINA_EXIT_COUNT + 2; rows++) {
		line = strchr(line, '\n');
		assert_non_null(line);
		line++;
	}
	assert_string_equal(line, "");
	free(out);
}

static void stats_fails_on_a_hypercall_error(void **state)
{
	int status;
	char *out;

	(void)state;
	fake.counts_status = LAMINA_E_INVAL;
	out = run_captured(cmd_stats, &status);
	assert_int_equal(status, LCTL_FAIL);
	assert_string_equal(out, "");
	free(out);
}

/* A log of n lines "line NNNN\n" (10 bytes each). */
static char *make_log(int n)
{
	char *log = malloc((size_t)n * 10 + 1);

	assert_non_null(log);
	for (int i = 0; i < n; i++)
		sprintf(log + i * 10, "line %04d\n", i);
	return log;
}

static void log_reads_everything(void **state)
{
	char *log = make_log(100), *out;
	int status;

	(void)state;
	fake.log = log;
	out = run_captured(cmd_log, &status);
	assert_int_equal(status, LCTL_OK);
	assert_string_equal(out, log);
	free(out);
	free(log);
}

static void log_starts_at_the_oldest_kept_byte(void **state)
{
	char *log = make_log(1000), *out;
	const char *note = "[laminactl: the log's first 6543 bytes are overwritten]\n";
	int status;

	(void)state;
	fake.log = log;
	fake.log_oldest = 6543;
	out = run_captured(cmd_log, &status);
	assert_int_equal(status, LCTL_OK);
	assert_memory_equal(out, note, strlen(note));
	assert_string_equal(out + strlen(note), log + 6543);
	free(out);
	free(log);
}

static void log_skips_what_is_overwritten_while_reading(void **state)
{
	char *log = make_log(100), *out, expect[1200];
	int status;

	(void)state;
	fake.log = log;
	/* Reads: the probe for overwritten bytes at 0, then text at 0 and 16;
	 * the fourth, at 32, finds the ring moved on to 500. */
	fake.log_jump_after = 4;
	fake.log_jump_to = 500;
	out = run_captured(cmd_log, &status);
	assert_int_equal(status, LCTL_OK);
	snprintf(expect, sizeof(expect),
		 "%.32s\n[laminactl: 468 bytes overwritten while reading]\n%s", log, log + 500);
	assert_string_equal(out, expect);
	free(out);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(absent_when_the_instruction_faults, setup),
		cmocka_unit_test_setup(absent_under_another_hypervisor, setup),
		cmocka_unit_test_setup(version_names_back_end_and_cpus, setup),
		cmocka_unit_test_setup(meminfo_prints_an_e820_style_range, setup),
		cmocka_unit_test_setup(stats_table_has_every_reason_and_totals, setup),
		cmocka_unit_test_setup(stats_fails_on_a_hypercall_error, setup),
		cmocka_unit_test_setup(log_reads_everything, setup),
		cmocka_unit_test_setup(log_starts_at_the_oldest_kept_byte, setup),
		cmocka_unit_test_setup(log_skips_what_is_overwritten_while_reading, setup),
	};

	return cmocka_run_group_tests_name("laminactl", tests, NULL, NULL);
}
