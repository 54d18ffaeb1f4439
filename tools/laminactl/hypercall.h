/* laminactl: issuing a lamina hypercall from user space (ring 3). */
#ifndef LAMINACTL_HYPERCALL_H
#define LAMINACTL_HYPERCALL_H

#include <stdint.h>

/* The registers of the ABI (include/lamina/hypercall.h), 32 bits wide:
 * in before the call, out after it. EAX is the function in and the
 * status out. */
struct hc_regs {
	uint32_t eax, ebx, ecx, edx, esi;
};

/* Runs VMMCALL (AMD, Hygon) or VMCALL (others), chosen by the CPUID
 * vendor. Returns 0 when the instruction completed, -1 when it faulted
 * (#UD or #GP: no hypervisor answers it), leaving r untouched then. */
int hc_call(struct hc_regs *r);

/* Runs fn(r, amd) with SIGILL, SIGSEGV and SIGBUS caught (and unblocked,
 * the caller's mask restored after): 1 if it faulted, else 0. hc_call's
 * guard, apart for its test. */
typedef void (*hc_fn)(struct hc_regs *r, int amd);
int hc_guard(hc_fn fn, struct hc_regs *r, int amd);

/* The status in EAX as a signed number (0, a byte count, or LAMINA_E_*). */
static inline int32_t hc_status(const struct hc_regs *r)
{
	return (int32_t)r->eax;
}

#endif
