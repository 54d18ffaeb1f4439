/* Formatted output on COM1, formatted as lamina formats (core/format.h:
 * format() and format_v() into a buffer). Each call goes out whole, so
 * lines from several CPUs do not mix. */
#ifndef GUEST_PRINT_H
#define GUEST_PRINT_H

#include <stdarg.h>
#include <core/format.h>

void serial_init(void);
void serial_write(const char *s, size_t n);
void serial_flush(void);

void kvprintf(const char *fmt, va_list ap);
void kprintf(const char *fmt, ...) __printf(1, 2);
/* For a fatal path that may have interrupted a print on this CPU. */
void print_break_lock(void);

#endif
