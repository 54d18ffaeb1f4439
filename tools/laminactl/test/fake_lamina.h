/* A lamina simulated in user space, answering laminactl's hc_call(), so
 * the commands can be tested on the host. */
#ifndef FAKE_LAMINA_H
#define FAKE_LAMINA_H

#include <stdint.h>

#include <lamina/hypercall.h>

enum fake_mode {
	FAKE_LAMINA,    /* answers like lamina */
	FAKE_FAULT,     /* the instruction faults (no hypervisor) */
	FAKE_FOREIGN,   /* another hypervisor: error status, no signature */
};

#define FAKE_MAX_CPUS 4

struct fake_lamina {
	enum fake_mode mode;
	uint64_t ncpus;
	uint64_t counts[FAKE_MAX_CPUS][LAMINA_EXIT_COUNT];
	uint64_t mem_base, mem_size;
	const char *log;      /* the whole log since boot */
	uint64_t log_oldest;  /* offsets below it are overwritten */
	/* After this many LOG_READ calls, log_oldest jumps to log_jump_to
	 * (lamina overwriting the ring while laminactl reads); 0: never. */
	unsigned log_jump_after;
	uint64_t log_jump_to;
	unsigned log_reads;
	int32_t counts_status; /* forced status of EXIT_COUNT, if not 0 */
};

extern struct fake_lamina fake;

#endif
