/* What tests/unit/host_env.c gives every host unit test besides the
 * platform stand-ins. */
#ifndef TEST_HOST_ENV_H
#define TEST_HOST_ENV_H

#include <core/types.h>

/* The next number of a seedable pseudo-random sequence (splitmix64);
 * *state is the seed, and each thread can keep its own. */
u64 host_rand(u64 *state);

/* Monotonic time in seconds, for stress tests bounded in time. */
double host_seconds(void);

/* Runs fn(ctx, id) on n threads at once, ids 1 to n, and waits for them
 * all; false if a thread could not be started (those that were are still
 * waited for). */
bool host_run_threads(unsigned int n, void (*fn)(void *ctx, unsigned int id), void *ctx);

#endif
