/* lamina's hypercalls (include/lamina/hypercall.h) from 32-bit code: the
 * registers are seen through their low 32 bits. */
#ifndef GUEST_HC_H
#define GUEST_HC_H

#include <core/types.h>
#include <lamina/hypercall.h>

struct hc_regs {
	u32 eax, ebx, ecx, edx, esi;
};

/* Probes for lamina once (ring 0); prints what it found. */
void hc_init(void);
/* Whether lamina answered VERSION with its magic. */
bool lamina_present(void);
/* VMMCALL on AMD, VMCALL otherwise. Returns TRAP_NONE or the vector of
 * the exception the instruction raised (#UD without lamina). Safe in
 * ring 3. */
int hc_call(struct hc_regs *r);
/* The other vendor's instruction, which must raise #UD. */
int hc_call_other(struct hc_regs *r);
/* Status in RAX as a signed number. */
static inline s32 hc_status(const struct hc_regs *r)
{
	return (s32)r->eax;
}

#endif
