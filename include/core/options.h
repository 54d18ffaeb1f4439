/* Command-line options: strictly parsed key=value words. Each option is
 * declared where it is used, with OPTION(); there is no central list. */
#ifndef CORE_OPTIONS_H
#define CORE_OPTIONS_H

#include <core/types.h>

struct option_desc {
	const char *name;
	const char *form;      /* the accepted form, shown when a value is bad */
	const char *help;
	/* Parse value into target; 0, or -1 when malformed (target untouched). */
	int (*parse)(const char *value, void *target);
	void *target;
	bool fail_closed;      /* a bad value must stop the guest from starting */
};

#define OPTION_DEFINE(id, nm, frm, fn, tgt, hlp, closed)                \
	static const struct option_desc option_##id                        \
		__attribute__((used, section("lamina_options"), aligned(8))) = { \
		.name = nm, .form = frm, .help = hlp, .parse = fn,          \
		.target = tgt, .fail_closed = closed,                       \
	}

#define OPTION(id, name, form, parse, target, help) \
	OPTION_DEFINE(id, name, form, parse, target, help, false)
#define OPTION_FAIL_CLOSED(id, name, form, parse, target, help) \
	OPTION_DEFINE(id, name, form, parse, target, help, true)

/* Parse the whole command line. A first word without '=' is the image's
 * own path and is skipped when path_first (the loader is known to put it
 * there) or when it looks like one ('/' or '.', no ':'). Problems are
 * reported through report(), one complete message per call. Returns false
 * when an option marked fail_closed was malformed, or a word looks like a
 * mistyped protecting option or a stray device selector. */
bool options_parse(const char *cmdline, bool path_first,
		   void (*report)(const char *msg, void *arg), void *arg);

/* A parser may say what is wrong before returning -1; the message then
 * reads "option 'k=v': <what>; expected k=<form>; ...". */
void option_error(const char *fmt, ...) __printf(1, 2);

/* Reusable value parsers. */
int parse_size(const char *v, void *target);     /* u64: 123, 64K, 32M, 1G */
int parse_u64(const char *v, void *target);      /* u64: decimal or 0x hex */
int parse_bool(const char *v, void *target);     /* bool: on/off, yes/no, 1/0 */
/* The index of v in names[0..n), or -1: for options naming one of a set. */
int option_match(const char *v, const char *const *names, unsigned int n);

/* For tests and diagnostics: the registered options. */
const struct option_desc *options_begin(void);
const struct option_desc *options_end(void);

#endif
