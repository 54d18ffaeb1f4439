/* A small vsnprintf and the serial printf built on it. */
#include "print.h"
#include "util.h"

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct out *o, u64 v, u32 base, int width, char pad, bool neg)
{
	char tmp[24];
	int n = 0;
	u32 digit;

	do {
		v = udiv64(v, base, &digit);
		tmp[n++] = "0123456789abcdef"[digit];
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width-- > n)
		put(o, pad);
	while (n)
		put(o, tmp[--n]);
}

static void put_str(struct out *o, const char *s, int width)
{
	int n = (int)strlen(s);

	while (width-- > n)
		put(o, ' ');
	while (*s)
		put(o, *s++);
}

/* One conversion: fmt points after '%'; returns the rest of the format. */
static const char *convert(struct out *o, const char *fmt, va_list *ap)
{
	char pad = ' ';
	int width = 0, longs = 0;
	u64 v;

	if (*fmt == '0')
		pad = '0', fmt++;
	while (*fmt >= '0' && *fmt <= '9')
		width = width * 10 + (*fmt++ - '0');
	while (*fmt == 'l')
		longs++, fmt++;
	switch (*fmt) {
	case 'd':
	case 'i':
		v = longs >= 2 ? (u64)va_arg(*ap, long long) : (u64)(s64)va_arg(*ap, int);
		put_num(o, (s64)v < 0 ? -v : v, 10, width, pad, (s64)v < 0);
		break;
	case 'u':
	case 'x':
		v = longs >= 2 ? va_arg(*ap, unsigned long long) : va_arg(*ap, unsigned int);
		put_num(o, v, *fmt == 'u' ? 10 : 16, width, pad, false);
		break;
	case 'p':
		put_str(o, "0x", 0);
		put_num(o, (uintptr_t)va_arg(*ap, void *), 16, 8, '0', false);
		break;
	case 'c':
		put(o, (char)va_arg(*ap, int));
		break;
	case 's':
		put_str(o, va_arg(*ap, const char *), width);
		break;
	case '%':
		put(o, '%');
		break;
	default:
		put(o, '?');
		return *fmt ? fmt + 1 : fmt;
	}
	return fmt + 1;
}

size_t kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%')
			put(&o, *fmt++);
		else
			fmt = convert(&o, fmt + 1, &aq);
	}
	va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

size_t ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static volatile u32 print_lock;

void print_break_lock(void)
{
	print_lock = 0;
}

void kvprintf(const char *fmt, va_list ap)
{
	char line[256];
	size_t n = kvsnprintf(line, sizeof(line), fmt, ap);

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
