/* Strict key=value command-line parsing over the options declared with
 * OPTION() anywhere in lamina. */
#include <core/format.h>
#include <core/options.h>
#include <core/string.h>
#include <stdarg.h>

extern const struct option_desc __start_lamina_options[];
extern const struct option_desc __stop_lamina_options[];

const struct option_desc *options_begin(void)
{
	return __start_lamina_options;
}

const struct option_desc *options_end(void)
{
	return __stop_lamina_options;
}

/* What a parser found wrong, if it said (option_error). */
static char detail[160];

void option_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_v(detail, sizeof(detail), fmt, ap);
	va_end(ap);
}

static const struct option_desc *find_option(const char *key, size_t len)
{
	for (const struct option_desc *o = options_begin(); o < options_end(); o++)
		if (strlen(o->name) == len && !strncmp(o->name, key, len))
			return o;
	return NULL;
}

static void list_known(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (const struct option_desc *o = options_begin(); o < options_end(); o++)
		n += format(buf + MIN(n, size), size - MIN(n, size), "%s%s",
			    n ? ", " : "", o->name);
}

struct parse_state {
	void (*report)(const char *msg, void *arg);
	void *arg;
	bool ok;
};

static void one_word(struct parse_state *st, const char *w, size_t len)
{
	char msg[512], value[256], known[256];
	const char *eq = memchr(w, '=', len);
	const struct option_desc *o;

	if (!eq) {
		format(msg, sizeof(msg), "option '%.*s': expected key=value",
		       (int)len, w);
		st->report(msg, st->arg);
		return;
	}
	o = find_option(w, eq - w);
	if (!o) {
		list_known(known, sizeof(known));
		format(msg, sizeof(msg),
		       "option '%.*s': unknown option '%.*s'; known options: %s",
		       (int)len, w, (int)(eq - w), w, known);
		st->report(msg, st->arg);
		return;
	}
	size_t vlen = len - (eq + 1 - w);
	detail[0] = 0;
	if (vlen >= sizeof(value) || vlen == 0 ||
	    (memcpy(value, eq + 1, vlen), value[vlen] = 0, o->parse(value, o->target))) {
		format(msg, sizeof(msg), "option '%.*s': %s%sexpected %s=%s; %s",
		       (int)len, w, detail, detail[0] ? "; " : "", o->name, o->form,
		       o->fail_closed ? "refusing to start the guest"
				      : "using the default");
		st->report(msg, st->arg);
		if (o->fail_closed)
			st->ok = false;
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool options_parse(const char *cmdline,
		   void (*report)(const char *msg, void *arg), void *arg)
{
	struct parse_state st = { report, arg, true };
	const char *p = cmdline ? cmdline : "";
	bool first = true;

	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		const char *w = p;
		while (*p && !is_space(*p))
			p++;
		/* The loader may put the image's own path first. */
		if (!(first && !memchr(w, '=', p - w)))
			one_word(&st, w, p - w);
		first = false;
	}
	return st.ok;
}

/* Value parsers shared by the options. */

static int parse_number(const char *v, u64 *out, const char **end)
{
	u64 n = 0;
	unsigned int base = 10;

	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		v += 2;
	}
	const char *start = v;
	for (;; v++) {
		unsigned int d;
		if (*v >= '0' && *v <= '9')
			d = *v - '0';
		else if (base == 16 && *v >= 'a' && *v <= 'f')
			d = *v - 'a' + 10;
		else if (base == 16 && *v >= 'A' && *v <= 'F')
			d = *v - 'A' + 10;
		else
			break;
		if (n > (UINT64_MAX - d) / base)
			return -1;
		n = n * base + d;
	}
	if (v == start)
		return -1;
	*out = n;
	*end = v;
	return 0;
}

int parse_u64(const char *v, void *target)
{
	const char *end;
	u64 n;

	if (parse_number(v, &n, &end) || *end)
		return -1;
	*(u64 *)target = n;
	return 0;
}

int parse_size(const char *v, void *target)
{
	const char *end;
	unsigned int shift = 0;
	u64 n;

	if (parse_number(v, &n, &end))
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || (n << shift) >> shift != n)
		return -1;
	*(u64 *)target = n << shift;
	return 0;
}

int option_match(const char *v, const char *const *names, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(v, names[i]))
			return (int)i;
	return -1;
}

int parse_bool(const char *v, void *target)
{
	static const char *const yes[] = { "1", "on", "yes", "true" };
	static const char *const no[] = { "0", "off", "no", "false" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(v, yes[i])) {
			*(bool *)target = true;
			return 0;
		}
		if (!strcmp(v, no[i])) {
			*(bool *)target = false;
			return 0;
		}
	}
	return -1;
}
