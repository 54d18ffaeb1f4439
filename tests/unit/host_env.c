/* Host-side stand-ins for the few platform services that pure hypervisor
 * sources call, so they can be unit-tested in user space, and a few
 * helpers for the tests themselves (host_env.h). */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <core/cpu.h>

#include "host_env.h"

/* Each host thread plays one CPU: numbered in the order they first ask. */
unsigned int this_cpu_index(void)
{
	static unsigned int next;
	static _Thread_local unsigned int mine;

	if (!mine)
		mine = __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
	return mine - 1;
}

u64 host_rand(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double host_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct host_thread {
	void (*fn)(void *ctx, unsigned int id);
	void *ctx;
	unsigned int id;
	pthread_t thread;
};

static void *host_thread_main(void *arg)
{
	struct host_thread *t = arg;

	t->fn(t->ctx, t->id);
	return NULL;
}

bool host_run_threads(unsigned int n, void (*fn)(void *ctx, unsigned int id), void *ctx)
{
	struct host_thread *t = calloc(n, sizeof(*t));
	unsigned int started = 0;

	if (!t)
		return false;
	while (started < n) {
		t[started] = (struct host_thread){ .fn = fn, .ctx = ctx, .id = started + 1 };
		if (pthread_create(&t[started].thread, NULL, host_thread_main, &t[started]))
			break;
		started++;
	}
	for (unsigned int i = 0; i < started; i++)
		pthread_join(t[i].thread, NULL);
	free(t);
	return started == n;
}
