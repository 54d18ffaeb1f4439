/* `laminactl stats`: exit counts by reason (rows) and CPU (columns). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <lamina/hypercall.h>

#include "laminactl.h"

#define MAX_CPUS 4096u

static const char *const reason_names[] = {
#define REASON_NAME(e, n) n,
	LAMINA_EXIT_REASONS(REASON_NAME)
#undef REASON_NAME
};
_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == LAMINA_EXIT_COUNT,
	       "one name per exit reason");

/* counts[cpu * LAMINA_EXIT_COUNT + reason], one call per count. */
static int read_counts(uint32_t ncpus, uint64_t *counts)
{
	for (uint32_t cpu = 0; cpu < ncpus; cpu++) {
		for (uint32_t reason = 0; reason < LAMINA_EXIT_COUNT; reason++) {
			struct hc_regs r = { .eax = LAMINA_HC_EXIT_COUNT, .ebx = cpu, .ecx = reason };

			if (lamina_request(&r, "exit count") < 0)
				return -1;
			counts[cpu * LAMINA_EXIT_COUNT + reason] = hc_u64(r.ebx, r.ecx);
		}
	}
	return 0;
}

static int digits(uint64_t v)
{
	char buf[24];

	return snprintf(buf, sizeof(buf), "%" PRIu64, v);
}

/* One row: a label, the per-CPU values, and their sum. */
static void print_row(const char *label, const uint64_t *v, uint32_t n, size_t stride, int width)
{
	uint64_t sum = 0;

	printf("%-14s", label);
	for (uint32_t i = 0; i < n; i++) {
		printf(" %*" PRIu64, width, v[i * stride]);
		sum += v[i * stride];
	}
	printf(" %*" PRIu64 "\n", width, sum);
}

static void print_table(uint32_t ncpus, const uint64_t *counts, const uint64_t *cpu_totals)
{
	uint64_t all = 0;
	int width = 8;

	for (uint32_t cpu = 0; cpu < ncpus; cpu++)
		all += cpu_totals[cpu];
	if (digits(all) > width)
		width = digits(all);
	printf("%-14s", "reason");
	for (uint32_t cpu = 0; cpu < ncpus; cpu++) {
		char name[24];

		snprintf(name, sizeof(name), "cpu%" PRIu32, cpu);
		printf(" %*s", width, name);
	}
	printf(" %*s\n", width, "total");
	for (unsigned reason = 0; reason < LAMINA_EXIT_COUNT; reason++)
		print_row(reason_names[reason], counts + reason, ncpus, LAMINA_EXIT_COUNT, width);
	print_row("total", cpu_totals, ncpus, 1, width);
}

int cmd_stats(const struct lamina_info *info)
{
	uint32_t n = info->ncpus;
	uint64_t *counts, *totals;
	int status = LCTL_FAIL;

	if (n == 0 || n > MAX_CPUS) {
		fprintf(stderr, "laminactl: lamina reports %" PRIu32 " CPUs\n", n);
		return LCTL_FAIL;
	}
	counts = calloc(n * LAMINA_EXIT_COUNT, sizeof(*counts));
	totals = calloc(n, sizeof(*totals));
	if (counts && totals && read_counts(n, counts) == 0) {
		for (uint32_t cpu = 0; cpu < n; cpu++)
			for (unsigned reason = 0; reason < LAMINA_EXIT_COUNT; reason++)
				totals[cpu] += counts[cpu * LAMINA_EXIT_COUNT + reason];
		print_table(n, counts, totals);
		status = LCTL_OK;
	} else if (!counts || !totals) {
		fprintf(stderr, "laminactl: out of memory\n");
	}
	free(counts);
	free(totals);
	return status;
}
