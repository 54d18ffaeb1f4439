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

/* Options whose last good word a parse remembers; one registered beyond
 * that says "keeping the earlier value" without naming it. */
#define OPTIONS_REMEMBERED 32

struct parse_state {
	void (*report)(const char *msg, void *arg);
	void *arg;
	bool ok;
	/* The word that last set each option, by its index: a bad value
	 * later leaves that one in force, and the message says so. */
	struct {
		const char *w;
		size_t len;
	} good[OPTIONS_REMEMBERED];
	bool set[OPTIONS_REMEMBERED + 1]; /* the last: any option beyond */
};

static unsigned int option_index(const struct option_desc *o)
{
	return MIN((unsigned int)(o - options_begin()), (unsigned int)OPTIONS_REMEMBERED);
}

static void remember_good(struct parse_state *st, const struct option_desc *o,
			  const char *w, size_t len)
{
	unsigned int i = option_index(o);

	st->set[i] = true;
	if (i < OPTIONS_REMEMBERED) {
		st->good[i].w = w;
		st->good[i].len = len;
	}
}

/* What stays in force after a bad value of a non-protecting option. */
static void what_is_kept(const struct parse_state *st, const struct option_desc *o,
			 char *buf, size_t size)
{
	unsigned int i = option_index(o);

	if (!st->set[i])
		format(buf, size, "using the default");
	else if (i < OPTIONS_REMEMBERED)
		format(buf, size, "keeping %.*s", (int)st->good[i].len, st->good[i].w);
	else
		format(buf, size, "keeping the earlier value");
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Edit distance between a[0..la) and b, ignoring case, where swapping two
 * neighbours counts as one edit (a typist's usual slip); anything above
 * max is reported as max + 1. */
static unsigned int edit_distance(const char *a, size_t la, const char *b,
				  unsigned int max)
{
	enum { LONGEST = 32 };
	unsigned int row[3][LONGEST + 1];
	size_t lb = strlen(b);

	/* Lengths apart by more than max are that many edits anyway. */
	if (la > LONGEST || lb > LONGEST || la > lb + max || lb > la + max)
		return max + 1;
	for (size_t j = 0; j <= lb; j++)
		row[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		unsigned int *cur = row[i % 3], *prev = row[(i - 1) % 3];
		unsigned int *prev2 = row[(i + 1) % 3];
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int cost = lower(a[i - 1]) != lower(b[j - 1]);
			unsigned int d = MIN(prev[j] + 1, cur[j - 1] + 1);
			d = MIN(d, prev[j - 1] + cost);
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]))
				d = MIN(d, prev2[j - 2] + 1);
			cur[j] = d;
		}
	}
	return MIN(row[la % 3][lb], max + 1);
}

/* The protecting (fail-closed) option whose name key[0..len) most likely
 * misspells, or NULL. Two edits at most, and fewer than half the name's
 * length, so that a short name does not claim unrelated words. */
static const struct option_desc *near_protecting(const char *key, size_t len)
{
	const struct option_desc *best = NULL;
	unsigned int best_d = 3;

	for (const struct option_desc *o = options_begin(); o < options_end(); o++) {
		if (!o->fail_closed)
			continue;
		unsigned int d = edit_distance(key, len, o->name, 2);
		if (d < best_d && 2 * d < strlen(o->name)) {
			best = o;
			best_d = d;
		}
	}
	return best;
}

/* A mistyped protecting option must not let the guest start unprotected:
 * refuse when the word is a near miss of one. */
static bool refuse_near_miss(struct parse_state *st, const char *w, size_t len,
			     size_t keylen)
{
	const struct option_desc *o = near_protecting(w, keylen);
	char msg[512];

	if (!o)
		return false;
	format(msg, sizeof(msg),
	       "option '%.*s': unknown option '%.*s' - did you mean %s=?; "
	       "refusing to start the guest", (int)len, w, (int)keylen, w, o->name);
	st->report(msg, st->arg);
	st->ok = false;
	return true;
}

static void word_without_value(struct parse_state *st, const char *w, size_t len)
{
	char msg[512];

	if (refuse_near_miss(st, w, len, len))
		return;
	/* A device selector on its own (BB:DD.F, VVVV:DDDD) is most likely the
	 * rest of a list written with a space: it would go unprotected. */
	if (memchr(w, ':', len)) {
		format(msg, sizeof(msg),
		       "option '%.*s': looks like part of a device list: conceal=, nodma= "
		       "and nomsi= lists are comma-separated, without spaces; refusing to "
		       "start the guest", (int)len, w);
		st->report(msg, st->arg);
		st->ok = false;
		return;
	}
	format(msg, sizeof(msg), "option '%.*s': expected key=value", (int)len, w);
	st->report(msg, st->arg);
}

static void unknown_key(struct parse_state *st, const char *w, size_t len,
			size_t keylen)
{
	char msg[512], known[256];

	if (refuse_near_miss(st, w, len, keylen))
		return;
	list_known(known, sizeof(known));
	format(msg, sizeof(msg),
	       "option '%.*s': unknown option '%.*s'; known options: %s",
	       (int)len, w, (int)keylen, w, known);
	st->report(msg, st->arg);
}

static void one_word(struct parse_state *st, const char *w, size_t len)
{
	char msg[512], value[256], kept[300];
	const char *eq = memchr(w, '=', len);
	const struct option_desc *o;

	if (!eq) {
		word_without_value(st, w, len);
		return;
	}
	o = find_option(w, eq - w);
	if (!o) {
		unknown_key(st, w, len, eq - w);
		return;
	}
	size_t vlen = len - (eq + 1 - w);
	detail[0] = 0;
	if (vlen < sizeof(value) && vlen != 0 &&
	    (memcpy(value, eq + 1, vlen), value[vlen] = 0, !o->parse(value, o->target))) {
		remember_good(st, o, w, len);
		return;
	}
	if (o->fail_closed) {
		format(kept, sizeof(kept), "refusing to start the guest");
		st->ok = false;
	} else {
		what_is_kept(st, o, kept, sizeof(kept));
	}
	format(msg, sizeof(msg), "option '%.*s': %s%sexpected %s=%s; %s", (int)len, w,
	       detail, detail[0] ? "; " : "", o->name, o->form, kept);
	st->report(msg, st->arg);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether the first word is the image's own path rather than an option.
 * Without the loader's word for it, only a word that looks like a file
 * name is: one with '/' or '.', and no '=' or ':' (a device selector is
 * never taken for a path, or a mistyped list would go unchecked). */
static bool first_is_path(const char *w, size_t len, bool path_first)
{
	if (memchr(w, '=', len))
		return false;
	if (path_first)
		return true;
	return !memchr(w, ':', len) && (memchr(w, '/', len) || memchr(w, '.', len));
}

bool options_parse(const char *cmdline, bool path_first,
		   void (*report)(const char *msg, void *arg), void *arg)
{
	struct parse_state st = { .report = report, .arg = arg, .ok = true };
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
		if (!(first && first_is_path(w, p - w, path_first)))
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
