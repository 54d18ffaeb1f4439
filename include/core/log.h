/* Leveled log lines, stamped with time since boot and CPU number, to the
 * console and to an in-memory ring the guest can read (LAMINA_HC_LOG_READ). */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <core/types.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_msg(enum log_level level, const char *fmt, ...) __printf(2, 3);

#define log_err(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* To the console only, never to the ring the guest can read: what the
 * guest must not learn (the devices hidden from it, lamina's command line
 * that names them). */
void log_console(enum log_level level, const char *fmt, ...) __printf(2, 3);

/* "  at guest rip ..." to the console only: guest virtual addresses in
 * the ring would tell the guest's user space where its kernel lies. */
void log_guest_rip(enum log_level level, u64 rip);

/* Raw text to the console and ring, no prefix (banners, register dumps). */
/* An info line printed whatever loglevel= says: for what the docs promise
 * will be printed (a SELFCHECK result). */
void log_always(const char *fmt, ...) __printf(1, 2);
void log_raw(const char *fmt, ...) __printf(1, 2);

/* A budget for a message the guest can make lamina print at will (one
 * per call site): LOG_LIMIT_BURST lines per LOG_LIMIT_WINDOW_S seconds.
 * Past that, one line says the rest are dropped; the first line let
 * through in a later window is preceded by how many were. Without it a
 * guest looping on a refused access would fill the log ring, push out
 * what came before, and hold the console (polled, shared by every CPU). */
#define LOG_LIMIT_BURST 10
#define LOG_LIMIT_WINDOW_S 5

struct log_limit {
	const char *what; /* "messages about <what>" */
	bool console_only; /* the notices too stay out of the guest's ring */
	u64 window_start_ns;
	u32 passed, dropped;
};

#define LOG_LIMIT(what_) { .what = (what_) }
#define LOG_LIMIT_CONSOLE(what_) { .what = (what_), .console_only = true }

/* Whether this occurrence may be printed (counted either way). */
bool log_limit_pass(struct log_limit *l);

/* Copy up to len bytes of the log from absolute offset off; returns the
 * number copied, or -1 if off has already been overwritten. */
long log_read(u64 off, char *buf, size_t len);

/* From now on write without taking the log lock (fatal errors only). */
void log_fatal_mode(void);

/* Only messages at or below this level are printed (option loglevel=). */
extern enum log_level log_level_max;

#endif
