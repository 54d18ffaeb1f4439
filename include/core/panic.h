/* Fatal errors inside lamina: print, stop every CPU. Never for guest
 * mistakes — those are handled like hardware would. */
#ifndef CORE_PANIC_H
#define CORE_PANIC_H

#include <core/types.h>

__noreturn void panic(const char *fmt, ...) __printf(1, 2);

#define BUG_ON(cond)                                                          \
	do {                                                                  \
		if (unlikely(cond))                                           \
			panic("BUG: %s at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

#endif
