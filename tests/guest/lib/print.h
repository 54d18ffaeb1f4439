/* Formatted output on COM1. Formats: %s %c %d %u %x %p and %%, with an
 * optional '0' flag, width, and 'l' (ignored) or 'll' (64-bit) length.
 * Each call goes out whole, so lines from several CPUs do not mix. */
#ifndef GUEST_PRINT_H
#define GUEST_PRINT_H

#include <stdarg.h>
#include <core/types.h>

void serial_init(void);
void serial_write(const char *s, size_t n);
void serial_flush(void);

size_t kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
void kvprintf(const char *fmt, va_list ap);
void kprintf(const char *fmt, ...) __printf(1, 2);
/* For a fatal path that may have interrupted a print on this CPU. */
void print_break_lock(void);

#endif
