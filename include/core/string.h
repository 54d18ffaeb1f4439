/* The few libc string functions lamina uses (core/lib/string.c). */
#ifndef CORE_STRING_H
#define CORE_STRING_H

#include <core/types.h>

#ifdef HOST_TEST
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
void *memchr(const void *s, int c, size_t n);
#endif

/* Copy at most size - 1 bytes and always terminate; returns strlen(src). */
size_t strlcpy_l(char *dst, const char *src, size_t size);

#endif
