/* The hypercall instruction, guarded so that running it without lamina
 * (where it raises #UD, or #GP) ends in an error return, not a crash. */
#include "hypercall.h"

#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

static sigjmp_buf fault_jump;

static void on_fault(int sig)
{
	siglongjmp(fault_jump, sig);
}

/* AMD's VMMCALL or Intel's VMCALL: the other one raises #UD. Asked once:
 * under lamina each CPUID is an exit, and would show in `stats`. */
static int vendor_is_amd(void)
{
	static int amd = -1;
	unsigned int eax, ebx, ecx, edx;
	char vendor[13];

	if (amd >= 0)
		return amd;
	__cpuid(0, eax, ebx, ecx, edx);
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &edx, 4);
	memcpy(vendor + 8, &ecx, 4);
	vendor[12] = '\0';
	amd = strcmp(vendor, "AuthenticAMD") == 0 || strcmp(vendor, "HygonGenuine") == 0;
	return amd;
}

static void raw_call(struct hc_regs *r, int amd)
{
	if (amd)
		__asm__ __volatile__(".byte 0x0f, 0x01, 0xd9" /* vmmcall */
				     : "+a"(r->eax), "+b"(r->ebx), "+c"(r->ecx),
				       "+d"(r->edx), "+S"(r->esi)
				     :
				     : "memory");
	else
		__asm__ __volatile__(".byte 0x0f, 0x01, 0xc1" /* vmcall */
				     : "+a"(r->eax), "+b"(r->ebx), "+c"(r->ecx),
				       "+d"(r->edx), "+S"(r->esi)
				     : : "memory");
}

/* Returns 1 if fn faulted (the signal handler jumped back). The mask
 * saved here is the unblocked one hc_guard set, restored by the jump. */
static int guarded_call(hc_fn fn, struct hc_regs *out, int amd)
{
	if (sigsetjmp(fault_jump, 1) != 0)
		return 1;
	fn(out, amd);
	return 0;
}

int hc_guard(hc_fn fn, struct hc_regs *r, int amd)
{
	static const int sigs[] = { SIGILL, SIGSEGV, SIGBUS };
	enum { NSIGS = sizeof(sigs) / sizeof(sigs[0]) };
	struct sigaction sa, old[NSIGS];
	sigset_t fault_sigs, old_mask;
	int faulted;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&fault_sigs);
	for (int i = 0; i < NSIGS; i++) {
		sigaction(sigs[i], &sa, &old[i]);
		sigaddset(&fault_sigs, sigs[i]);
	}
	/* A fault with its signal blocked is not held back: the kernel
	 * resets the handler to the default and kills the process. A parent
	 * may have left them blocked, so unblock them for the call. */
	sigprocmask(SIG_UNBLOCK, &fault_sigs, &old_mask);
	faulted = guarded_call(fn, r, amd);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	for (int i = 0; i < NSIGS; i++)
		sigaction(sigs[i], &old[i], NULL);
	return faulted;
}

int hc_call(struct hc_regs *r)
{
	struct hc_regs out = *r;

	if (hc_guard(raw_call, &out, vendor_is_amd()))
		return -1;
	*r = out;
	return 0;
}
