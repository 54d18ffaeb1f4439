/* The serial printf, on lamina's formatter (core/lib/format.c). */
#include "print.h"
#include "util.h"

static volatile u32 print_lock;

void print_break_lock(void)
{
	print_lock = 0;
}

void kvprintf(const char *fmt, va_list ap)
{
	char line[256];
	size_t n = (size_t)format_v(line, sizeof(line), fmt, ap);

	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	serial_write(line, n);
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
