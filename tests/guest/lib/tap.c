#include <stdarg.h>

#include "cpu.h"
#include "print.h"
#include "tap.h"
#include "trap.h"

static u32 n_ok, n_failed, n_skipped;

static bool report(bool cond, const char *fmt, va_list ap)
{
	char what[200];

	format_v(what, sizeof(what), fmt, ap);
	kprintf("%s - %s\n", cond ? "ok" : "not ok", what);
	__atomic_add_fetch(cond ? &n_ok : &n_failed, 1, __ATOMIC_RELAXED);
	return cond;
}

bool tap_check(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(cond, fmt, ap);
	va_end(ap);
	return cond;
}

void tap_skip(const char *why, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	format_v(what, sizeof(what), fmt, ap);
	va_end(ap);
	kprintf("ok - %s # SKIP %s\n", what, why);
	__atomic_add_fetch(&n_skipped, 1, __ATOMIC_RELAXED);
}

bool tap_eq(u64 got, u64 want, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		kprintf("#   got 0x%llx, want 0x%llx\n", got, want);
	return got == want;
}

bool tap_vec(int got, int want, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		kprintf("#   got %s, want %s\n", vector_name(got), vector_name(want));
	return got == want;
}

void tap_done(void)
{
	kprintf("# %u ok (%u skipped), %u not ok\n", n_ok + n_skipped, n_skipped,
		n_failed);
	kprintf("lamina-test: done %s\n", test_name);
	machine_exit();
}

void machine_exit(void)
{
	static const char bochs_shutdown[] = "Shutdown";

	serial_flush();
	outb(0xf4, 0); /* QEMU isa-debug-exit: QEMU exits with status 1 */
	for (const char *p = bochs_shutdown; *p; p++)
		outb(0x8900, (u8)*p);
	halt_forever();
}
