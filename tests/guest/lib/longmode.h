/* Short visits to 64-bit mode from the 32-bit kernels: for what only
 * 64-bit code can do (8-byte MOVs, 64-bit hypercall registers). Paging
 * identity-maps the low 4 GiB; an exception in 64-bit mode ends the visit
 * and is reported like a probe's. Interrupts stay off. */
#ifndef GUEST_LONGMODE_H
#define GUEST_LONGMODE_H

#include <core/types.h>

/* Whether CPUID announces long mode. */
bool lm_available(void);
/* 8-byte store and load at a physical address below 4 GiB. TRAP_NONE or
 * the vector raised. */
int lm_store64(u32 addr, u64 val);
int lm_load64(u32 addr, u64 *val);

/* A hypercall with full 64-bit registers. */
struct hc64_regs {
	u64 rax, rbx, rcx, rdx, rsi;
};
int lm_hypercall(struct hc64_regs *r, bool amd);

/* Runs the 64-bit function fn64(arg) (arg in RDI) in a visit. With cr3
 * not 0, on those page tables instead of ours: they must identity-map
 * what the visit touches (this kernel, its stacks, its data). */
int lm_run(const void *fn64, void *arg, u32 cr3);

#endif
