/* Rate limits for messages the guest can trigger (struct log_limit). */
#include <core/log.h>
#include <core/spinlock.h>
#include <core/time.h>

#define WINDOW_NS ((u64)LOG_LIMIT_WINDOW_S * 1000000000)

/* One lock for every limit: taken only on the way to printing a line. */
static spinlock_t limit_lock = SPINLOCK_INIT;

#define note(l, ...)                                     \
	do {                                             \
		if ((l)->console_only)                   \
			log_console(LOG_WARN, __VA_ARGS__); \
		else                                     \
			log_warn(__VA_ARGS__);           \
	} while (0)

bool log_limit_pass(struct log_limit *l)
{
	u64 now = time_ns();
	u32 dropped_before = 0;
	bool pass, first_drop = false;

	spin_lock(&limit_lock);
	/* A clock that went back (the guest wrote the TSC) starts a window
	 * too: a window that would end only when it is back is none. */
	if (!l->passed || now < l->window_start_ns || now - l->window_start_ns >= WINDOW_NS) {
		dropped_before = l->dropped;
		l->window_start_ns = now;
		l->passed = 0;
		l->dropped = 0;
	}
	pass = l->passed < LOG_LIMIT_BURST;
	if (pass)
		l->passed++;
	else
		first_drop = !l->dropped++;
	spin_unlock(&limit_lock);

	if (dropped_before)
		note(l, "%u messages about %s were dropped (at most %u per %u s)",
			 dropped_before, l->what, LOG_LIMIT_BURST, LOG_LIMIT_WINDOW_S);
	if (first_drop)
		note(l, "more than %u messages about %s in %u s: the rest are dropped until "
			 "the %u s are over", LOG_LIMIT_BURST, l->what, LOG_LIMIT_WINDOW_S,
			 LOG_LIMIT_WINDOW_S);
	return pass;
}
