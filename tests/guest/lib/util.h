/* The few libc-like functions the test kernels need (no libc, no libgcc).
 * The compiler may call memcpy/memset/memcmp itself, hence the names. */
#ifndef GUEST_UTIL_H
#define GUEST_UTIL_H

#include <core/types.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
bool mem_contains(const void *hay, size_t n, const char *needle);
bool str_ends_with(const char *s, const char *suffix);
/* Parses decimal or 0x-hex; false on anything else. */
bool parse_u64(const char *s, u64 *out);

/* 64-by-32-bit division; i386 has no such instruction and we have no
 * libgcc to provide __udivdi3. */
u64 udiv64(u64 n, u32 d, u32 *rem);

#endif
