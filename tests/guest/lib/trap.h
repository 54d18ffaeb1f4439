/* Exceptions. Any exception is fatal (reported as a failed check, then the
 * kernel ends) unless it comes from a probe: a stretch of instructions
 * wrapped in PROBE(), registered in the .extable section. A fault there
 * records its vector and error code and resumes after the stretch, so a
 * test can ask "did this raise #GP?" and go on. Probes work in ring 3.
 * A #DB caught by a probe also clears RFLAGS.TF: a probe that sets TF
 * steps once. */
#ifndef GUEST_TRAP_H
#define GUEST_TRAP_H

#include <core/types.h>

#define TRAP_NONE (-1)
#define VEC_DB 1
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14

extern volatile int trap_vector; /* TRAP_NONE or the vector caught */
extern volatile u32 trap_error;  /* its error code, 0 if it has none */
extern volatile u32 trap_eip;    /* where it came (a trap: the next instruction) */

/* Inline-asm text: clears trap_vector, then runs `insns`. */
#define PROBE(insns)                                              \
	"movl $-1, trap_vector\n"                                 \
	"771:\n\t" insns "\n772:\n"                               \
	".pushsection .extable, \"a\"\n.long 771b, 772b\n.popsection\n"

struct trap_frame {
	u32 edi, esi, ebp, esp0, ebx, edx, ecx, eax; /* pushal */
	u32 vector, error;
	u32 eip, cs, eflags;
	u32 user_esp, user_ss; /* only when the CPU came from ring 3 */
};

void trap_init(void);
/* Loads the IDT on the calling CPU (APs, after the BSP ran trap_init). */
void trap_load_idt(void);
/* Points a vector (an exception's, NMI's or 32-255) at entry, an
 * assembly stub of the caller's that ends in IRET (an interrupt gate: IF
 * is clear in it). */
void trap_set_handler(int vector, void (*entry)(void));
const char *vector_name(int vector);

/* Probed MSR and control-register access: TRAP_NONE or the vector. */
int rdmsr_probe(u32 msr, u64 *val);
int wrmsr_probe(u32 msr, u64 val);
int write_cr0_probe(u32 val);
int write_cr4_probe(u32 val);
int xsetbv_probe(u32 xcr, u64 val);
int xgetbv_probe(u32 xcr, u64 *val);

/* Checks that the DR6 bits in `mask` are `want` after a #DB the CPU
 * raised (a tap check named `what`). A kernel run with stale_dr6=1 skips
 * it: Bochs 2.7 with AMD-V takes an intercepted #DB before it writes DR6
 * (and clears DR7.GD), which AMD's CPUs and QEMU do first, so the guest
 * under lamina sees DR6 as it was. Kernels that call this list the
 * option. */
void check_dr6(u32 dr6, u32 mask, u32 want, const char *what);
bool dr6_is_stale(void);

/* Runs fn in ring 3 on its own stack; returns when fn returns. Ring 3
 * has IOPL 0: no port I/O, so no printing in fn. */
void ring3_run(void (*fn)(void));

#endif
