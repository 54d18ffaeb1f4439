/* The memory part: first touch of 256 MiB (page faults, zeroing), then a
 * 128 MiB copy inside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define MEM_BYTES (256ul << 20)
#define PAGE 4096ul

int work_mem(uint64_t *sum)
{
	size_t half = MEM_BYTES / 2;
	unsigned char *buf = malloc(MEM_BYTES); /* fresh pages from the kernel */
	int ok;

	if (!buf) {
		perror("workload: malloc 256 MiB");
		return -1;
	}
	for (size_t off = 0; off < MEM_BYTES; off += PAGE)
		buf[off] = (unsigned char)(off / PAGE);
	memcpy(buf + half, buf, half);
	ok = memcmp(buf + half, buf, half) == 0;
	*sum = buf[half + 5 * PAGE];
	free(buf);
	if (!ok)
		fprintf(stderr, "workload: memory copy differs\n");
	return ok ? 0 : -1;
}
