/* hc_call's guard (hypercall.c) on the host: a faulting instruction ends
 * in a return, even when the caller has the fault signals blocked. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "../hypercall.h"

static void faults(struct hc_regs *r, int amd)
{
	(void)r;
	(void)amd;
	__asm__ __volatile__("ud2");
}

static void completes(struct hc_regs *r, int amd)
{
	r->eax = (uint32_t)amd + 1;
}

static int blocked(int sig)
{
	sigset_t now;

	sigprocmask(SIG_BLOCK, NULL, &now);
	return sigismember(&now, sig);
}

static void a_fault_returns_1(void **state)
{
	struct hc_regs r = { 0 };

	(void)state;
	assert_int_equal(hc_guard(faults, &r, 0), 1);
	assert_int_equal(hc_guard(completes, &r, 1), 0);
	assert_int_equal(r.eax, 2);
}

static void a_fault_with_the_signals_blocked_returns_1(void **state)
{
	struct hc_regs r = { 0 };
	sigset_t set, before;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGILL);
	sigaddset(&set, SIGSEGV);
	sigaddset(&set, SIGBUS);
	sigprocmask(SIG_BLOCK, &set, &before);
	assert_int_equal(hc_guard(faults, &r, 0), 1);
	/* The caller's mask is back as it was. */
	assert_true(blocked(SIGILL) && blocked(SIGSEGV) && blocked(SIGBUS));
	sigprocmask(SIG_SETMASK, &before, NULL);
	assert_false(blocked(SIGILL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_fault_returns_1),
		cmocka_unit_test(a_fault_with_the_signals_blocked_returns_1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
