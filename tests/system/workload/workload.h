/* The fixed guest workload of the Linux system tests and `make bench`:
 * each part does a fixed amount of work and returns 0, or -1 after
 * printing why it failed. */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include <stdint.h>

/* Integer arithmetic in registers: no memory traffic, no system calls.
 * Stores a checksum of the result in *sum. */
int work_cpu(uint64_t *sum);

/* Touch every page of a fresh 256 MiB buffer, then copy its first half
 * onto its second half and check the copy. */
int work_mem(uint64_t *sum);

/* fork + exec /bin/true 500 times, waiting for each. */
int work_spawn(uint64_t *sum);

#endif
