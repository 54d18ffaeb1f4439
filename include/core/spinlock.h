/* Ticket spinlocks: FIFO, so no CPU starves under contention. Holders
 * never sleep; critical sections are short. */
#ifndef CORE_SPINLOCK_H
#define CORE_SPINLOCK_H

#include <core/types.h>

typedef struct {
	u32 next;
	u32 owner;
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

#ifdef HOST_TEST
#include <sched.h>
/* Host tests run more threads than CPUs: a waiter must let the holder
 * (or the next in line, with ticket locks) run. */
static inline void lock_relax(void)
{
	sched_yield();
}
#else
static inline void lock_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}
#endif

static inline void spin_lock(spinlock_t *l)
{
	u32 me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		lock_relax();
}

static inline bool spin_trylock(spinlock_t *l)
{
	u32 owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	u32 expect = owner;

	return __atomic_compare_exchange_n(&l->next, &expect, owner + 1, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

#endif
