/* The few helpers the test kernels need beyond lamina's own string
 * functions (core/lib/string.c, linked in: there is no libc). */
#ifndef GUEST_UTIL_H
#define GUEST_UTIL_H

#include <core/string.h>

bool mem_contains(const void *hay, size_t n, const char *needle);
bool str_ends_with(const char *s, const char *suffix);
/* Parses decimal or 0x-hex; false on anything else. */
bool parse_u64(const char *s, u64 *out);

/* What gcc calls for 64-bit division on i386: libgcc's names, since the
 * test kernels link no libgcc (lib/divide.c). */
u64 __udivdi3(u64 n, u64 d);
u64 __umoddi3(u64 n, u64 d);
u64 __udivmoddi4(u64 n, u64 d, u64 *rem);

#endif
