/* lamina's hypercalls (include/lamina/hypercall.h): 32-bit registers. */
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
/* Status in EAX as a signed number. */
static inline s32 hc_status(const struct hc_regs *r)
{
	return (s32)r->eax;
}

/* A 64-bit result given as two halves, low first. */
static inline u64 hc_pair(u32 lo, u32 hi)
{
	return ((u64)hi << 32) | lo;
}

/* EXIT_COUNT: the count of exits for `reason` on CPU `cpu`; false (and
 * *count untouched) if the call failed. */
bool hc_exit_count(u32 cpu, u32 reason, u64 *count);
/* MEMINFO: lamina's own memory; false if the call failed. */
bool hc_meminfo(u64 *base, u64 *size);
/* LOG_READ from `off` until the end of the log or until `cap` bytes are
 * in buf (16 bytes a call); returns the number of bytes read and the
 * last status in *status. */
u32 hc_log_read(u64 off, char *buf, u32 cap, s32 *status);

#endif
