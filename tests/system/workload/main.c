/* workload [PART...]: runs the named parts (cpu, mem, spawn; default all)
 * in order, timing each with CLOCK_MONOTONIC, and prints for each
 *   LTEST: work.PART.ms: MILLISECONDS
 * then "LTEST: work.total.ms: ..." and "LTEST: work: ok" (or "failed"). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "workload.h"

struct part {
	const char *name;
	int (*run)(uint64_t *sum);
};

static const struct part parts[] = {
	{ "cpu", work_cpu },
	{ "mem", work_mem },
	{ "spawn", work_spawn },
};
#define NPARTS (sizeof(parts) / sizeof(parts[0]))

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs one part; returns its time in ms, or a negative number. */
static double run_part(const struct part *p)
{
	uint64_t sum = 0;
	double start = now_ms(), ms;

	if (p->run(&sum) != 0)
		return -1;
	ms = now_ms() - start;
	printf("LTEST: work.%s.ms: %.3f\n", p->name, ms);
	printf("LTEST: work.%s.sum: %" PRIu64 "\n", p->name, sum);
	fflush(stdout);
	return ms;
}

static const struct part *find(const char *name)
{
	for (size_t i = 0; i < NPARTS; i++)
		if (strcmp(parts[i].name, name) == 0)
			return &parts[i];
	return NULL;
}

int main(int argc, char **argv)
{
	double total = 0;
	int n = argc > 1 ? argc - 1 : (int)NPARTS;

	for (int i = 0; i < n; i++) {
		const struct part *p = argc > 1 ? find(argv[i + 1]) : &parts[i];
		double ms;

		if (!p) {
			fprintf(stderr, "usage: workload [cpu|mem|spawn]...\n");
			return 2;
		}
		ms = run_part(p);
		if (ms < 0) {
			printf("LTEST: work: failed in %s\n", p->name);
			return 1;
		}
		total += ms;
	}
	printf("LTEST: work.total.ms: %.3f\n", total);
	printf("LTEST: work: ok\n");
	return 0;
}
