/* A small vsnprintf: enough for logs and diagnostics, no floating point.
 * '#' with x/X prefixes 0x even for zero (unlike C). */
#include <core/format.h>

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

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	bool left, zero, alt;
	int width, prec;
};

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
	int len = 0;

	if (!s)
		s = "(null)";
	while (s[len] && (sp->prec < 0 || len < sp->prec))
		len++;
	if (!sp->left)
		pad(o, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, ' ', sp->width - len);
}

static void put_num(struct out *o, u64 v, bool neg, unsigned int base,
		    bool upper, const char *prefix, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, plen = 0;

	/* As in C, a zero with precision 0 has no digits. */
	while (v || (!n && sp->prec != 0)) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	if (neg)
		prefix = "-";
	while (prefix && prefix[plen])
		plen++;
	int zeros = sp->prec > n ? sp->prec - n : 0;
	int total = n + zeros + plen;
	if (sp->zero && !sp->left && sp->prec < 0 && sp->width > total) {
		zeros += sp->width - total;
		total = sp->width;
	}
	if (!sp->left)
		pad(o, ' ', sp->width - total);
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', sp->width - total);
}

static const char *parse_int(const char *f, int *v, va_list *ap)
{
	if (*f == '*') {
		*v = va_arg(*ap, int);
		return f + 1;
	}
	*v = 0;
	while (*f >= '0' && *f <= '9')
		*v = *v * 10 + (*f++ - '0');
	return f;
}

/* Reads one integer argument of the given length (0 int, 1 long, 2 long
 * long, -1 short, -2 char), sign- or zero-extended. */
static u64 arg_int(va_list *ap, int lenmod, bool is_signed)
{
	if (lenmod >= 1) {
		u64 v = lenmod == 2 ? va_arg(*ap, unsigned long long)
				    : va_arg(*ap, unsigned long);
		return v;
	}
	unsigned int v = va_arg(*ap, unsigned int);
	if (lenmod == -1)
		return is_signed ? (u64)(s64)(s16)v : (u16)v;
	if (lenmod == -2)
		return is_signed ? (u64)(s64)(s8)v : (u8)v;
	return is_signed ? (u64)(s64)(s32)v : v;
}

static const char *one_conversion(struct out *o, const char *f, va_list *ap)
{
	struct spec sp = { .prec = -1 };
	int lenmod = 0;

	for (;; f++) {
		if (*f == '-')
			sp.left = true;
		else if (*f == '#')
			sp.alt = true;
		else if (*f == '0')
			sp.zero = true;
		else
			break;
	}
	f = parse_int(f, &sp.width, ap);
	if (sp.width < 0) {
		sp.left = true;
		sp.width = -sp.width;
	}
	if (*f == '.')
		f = parse_int(f + 1, &sp.prec, ap);
	for (;; f++) {
		if (*f == 'l')
			lenmod = lenmod == 1 ? 2 : 1;
		else if (*f == 'z') /* size_t is as wide as long (LP64 and ILP32) */
			lenmod = 1;
		else if (*f == 'h')
			lenmod = lenmod == -1 ? -2 : -1;
		else
			break;
	}
	switch (*f) {
	case 'c':
		if (!sp.left)
			pad(o, ' ', sp.width - 1);
		put(o, (char)va_arg(*ap, int));
		if (sp.left)
			pad(o, ' ', sp.width - 1);
		break;
	case 's':
		put_str(o, va_arg(*ap, const char *), &sp);
		break;
	case 'd':
	case 'i': {
		s64 v = (s64)arg_int(ap, lenmod, true);
		put_num(o, v < 0 ? -(u64)v : (u64)v, v < 0, 10, false, NULL, &sp);
		break;
	}
	case 'u':
		put_num(o, arg_int(ap, lenmod, false), false, 10, false, NULL, &sp);
		break;
	case 'x':
	case 'X':
		put_num(o, arg_int(ap, lenmod, false), false, 16, *f == 'X',
			sp.alt ? "0x" : NULL, &sp);
		break;
	case 'p':
		put_num(o, (u64)(uintptr_t)va_arg(*ap, void *), false, 16, false, "0x", &sp);
		break;
	case '%':
		put(o, '%');
		break;
	default: /* unknown: print it as is */
		put(o, '%');
		if (*f)
			put(o, *f);
		else
			return f;
	}
	return f + 1;
}

int format_v(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%')
			put(&o, *fmt++);
		else
			fmt = one_conversion(&o, fmt + 1, &aq);
	}
	va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = format_v(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
