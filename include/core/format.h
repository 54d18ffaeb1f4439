/* printf-style formatting into a buffer: %c %s %d %i %u %x %X %p %%, with
 * flags '-' '0' '#', width, precision (also '*') and the l, ll, z, h, hh
 * length modifiers. Always terminates; returns the length it wanted. */
#ifndef CORE_FORMAT_H
#define CORE_FORMAT_H

#include <core/types.h>
#include <stdarg.h>

int format_v(char *buf, size_t size, const char *fmt, va_list ap);
int format(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
