/* Log lines go to the console and to a ring of the most recent text (the
 * guest may read the ring), except console-only lines. One lock keeps
 * lines whole when CPUs log at once. */
#include <core/console.h>
#include <core/cpu.h>
#include <core/format.h>
#include <core/log.h>
#include <core/options.h>
#include <core/spinlock.h>
#include <core/time.h>
#include <stdarg.h>

#define LOG_RING_SIZE (64 * 1024)

enum log_level log_level_max = LOG_INFO;

static int parse_level(const char *v, void *target)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	int i = option_match(v, names, ARRAY_SIZE(names));

	if (i < 0)
		return -1;
	*(enum log_level *)target = (enum log_level)i;
	return 0;
}
OPTION(loglevel, "loglevel", "error|warn|info|debug", parse_level, &log_level_max,
       "the least important messages lamina prints (default info)");

static spinlock_t log_lock = SPINLOCK_INIT;
/* After a fatal error the reporting CPU writes without the lock: the
 * failure may have struck while some CPU (even itself) held it. */
static volatile bool lockless;

void log_fatal_mode(void)
{
	lockless = true;
}

static void out_lock(void)
{
	if (!lockless)
		spin_lock(&log_lock);
}

static void out_unlock(void)
{
	if (!lockless)
		spin_unlock(&log_lock);
}
static char ring[LOG_RING_SIZE];
static u64 ring_total; /* bytes ever written */

static void ring_put(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ring[(ring_total + i) % LOG_RING_SIZE] = s[i];
	ring_total += n;
}

static void emit(const char *s, size_t n, bool to_ring)
{
	if (to_ring)
		ring_put(s, n);
	console_write(s, n);
}

long log_read(u64 off, char *buf, size_t len)
{
	long n = 0;

	spin_lock(&log_lock);
	if (ring_total > LOG_RING_SIZE && off < ring_total - LOG_RING_SIZE) {
		n = -1;
	} else {
		while ((size_t)n < len && off + n < ring_total) {
			buf[n] = ring[(off + n) % LOG_RING_SIZE];
			n++;
		}
	}
	spin_unlock(&log_lock);
	return n;
}

static const char *const level_tag[] = { "ERROR: ", "warning: ", "", "debug: " };

static void emit_line(enum log_level level, bool to_ring, const char *fmt, va_list ap)
{
	char line[512];
	u64 ns = time_ns();
	int n;

	n = format(line, sizeof(line), "[%5llu.%06llu] cpu%u: %s",
		   (unsigned long long)(ns / 1000000000),
		   (unsigned long long)(ns / 1000 % 1000000), this_cpu_index(),
		   level_tag[level]);
	n += format_v(line + n, sizeof(line) - n, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	out_lock();
	emit(line, n, to_ring);
	out_unlock();
}

static void log_line(enum log_level level, bool to_ring, const char *fmt, va_list ap)
{
	if (level <= log_level_max)
		emit_line(level, to_ring, fmt, ap);
}

void log_always(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_line(LOG_INFO, true, fmt, ap);
	va_end(ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(level, true, fmt, ap);
	va_end(ap);
}

void log_console(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(level, false, fmt, ap);
	va_end(ap);
}

void log_guest_rip(enum log_level level, u64 rip)
{
	log_console(level, "  at guest rip %#llx", (unsigned long long)rip);
}

void log_raw(const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = format_v(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(text) - 1)
		n = sizeof(text) - 1;
	out_lock();
	emit(text, n, true);
	out_unlock();
}
