/* The CPU part: a fixed number of rounds of a 64-bit mixing function. */
#include "workload.h"

#define CPU_ROUNDS 500000000ull

int work_cpu(uint64_t *sum)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, acc = 0;

	for (uint64_t i = 0; i < CPU_ROUNDS; i++) {
		x ^= x << 13; /* xorshift64 */
		x ^= x >> 7;
		x ^= x << 17;
		acc += x * 0xff51afd7ed558ccdull + (acc >> 29);
	}
	*sum = acc;
	return 0;
}
