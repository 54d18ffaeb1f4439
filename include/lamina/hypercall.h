/* lamina hypercall ABI, shared with guest tools (laminactl, test kernels).
 * Documented in docs/hypercalls.md; keep the two in step.
 *
 * Entry: VMMCALL on AMD, VMCALL on Intel (the other one raises #UD).
 * In:  EAX = function, EBX, ECX, EDX, ESI = arguments.
 * Out: EAX = status (0 or a negative LAMINA_E_*, sign-extended), EBX,
 *      ECX, EDX, ESI = results; every other register is preserved.
 * Every argument and result is 32 bits wide (the upper halves of the
 * 64-bit registers are zeroed), so 16-, 32- and 64-bit guest code all use
 * the same calls; 64-bit values come as two halves, low first.
 * Functions marked "any ring" may be called from ring 3; the rest need
 * CPL 0. */
#ifndef LAMINA_HYPERCALL_H
#define LAMINA_HYPERCALL_H

#define LAMINA_HC_BASE 0x4c4d0000u /* "LM" */

/* any ring. Out: EBX = LAMINA_SIGNATURE, ECX = LAMINA_VERSION_CODE of the
 * running lamina, EDX = enum lamina_vendor, ESI = number of CPUs. */
#define LAMINA_HC_VERSION (LAMINA_HC_BASE + 0)

/* any ring. In: EBX = CPU index (0 .. number of CPUs - 1), ECX = exit
 * reason. Out: EBX, ECX = low, high half of that CPU's count of exits
 * for the reason (0 for a reason >= LAMINA_EXIT_COUNT).
 * LAMINA_E_INVAL for a CPU index out of range. */
#define LAMINA_HC_EXIT_COUNT (LAMINA_HC_BASE + 1)

/* any ring. Out: EBX, ECX = physical base, EDX, ESI = size in bytes of
 * the memory lamina keeps for itself (absent from the guest). */
#define LAMINA_HC_MEMINFO (LAMINA_HC_BASE + 2)

/* ring 0. lamina checks its own memory (canaries, code checksum) and
 * prints the result on its console. Out: EBX = 1 if intact, 0 if not. */
#define LAMINA_HC_SELFCHECK (LAMINA_HC_BASE + 3)

/* any ring. In: EBX, ECX = byte offset into lamina's log since boot.
 * Out: EBX, ECX, EDX, ESI = up to 16 bytes of log text from that offset
 * (NUL-padded); EAX = number of valid bytes (0 at the end), or
 * LAMINA_E_RANGE if the offset has been overwritten in the ring. */
#define LAMINA_HC_LOG_READ (LAMINA_HC_BASE + 4)

#define LAMINA_E_NOFUNC (-1) /* unknown function */
#define LAMINA_E_PERM (-2)   /* function needs CPL 0 */
#define LAMINA_E_INVAL (-3)  /* bad argument */
#define LAMINA_E_RANGE (-4)  /* log offset no longer in the ring */

#define LAMINA_SIGNATURE 0x494d414cu /* "LAMI" in little-endian bytes */

#define LAMINA_VERSION_MAJOR 0
#define LAMINA_VERSION_MINOR 1
#define LAMINA_VERSION_PATCH 0
#define LAMINA_VERSION_CODE \
	((LAMINA_VERSION_MAJOR << 16) | (LAMINA_VERSION_MINOR << 8) | LAMINA_VERSION_PATCH)

enum lamina_vendor {
	LAMINA_VENDOR_AMD_SVM = 1,
	LAMINA_VENDOR_INTEL_VMX = 2,
};

/* Exit reasons, vendor-neutral, as counted per CPU. X(enum suffix, name). */
#define LAMINA_EXIT_REASONS(X)                                               \
	X(CPUID, "cpuid")              /* CPUID executed */                  \
	X(MSR_READ, "rdmsr")           /* intercepted RDMSR */               \
	X(MSR_WRITE, "wrmsr")          /* intercepted WRMSR */               \
	X(HYPERCALL, "hypercall")      /* VMMCALL / VMCALL */                \
	X(NESTED_FAULT, "nested-fault") /* NPT fault / EPT violation */      \
	X(NESTED_MISCONFIG, "ept-misconfig")                                 \
	X(IO, "io")                    /* intercepted port I/O */            \
	X(NMI, "nmi")                                                        \
	X(INIT, "init")                                                      \
	X(SIPI, "sipi")                                                      \
	X(SHUTDOWN, "shutdown")        /* triple fault */                    \
	X(VIRT_INSN, "virt-insn")      /* SVM/VMX instruction: #UD */        \
	X(XSETBV, "xsetbv")                                                  \
	X(CR_ACCESS, "cr-access")                                            \
	X(EXCEPTION, "exception")                                            \
	X(INTR, "interrupt")           /* external interrupt */              \
	X(INVD, "invd")                                                      \
	X(OTHER, "other")                                                    \
	X(WBINVD, "wbinvd")                                                  \
	X(TASK_SWITCH, "task-switch")  /* hardware task switch (VT-x) */

enum lamina_exit_reason {
#define LAMINA_EXIT_ENUM(e, n) LAMINA_EXIT_##e,
	LAMINA_EXIT_REASONS(LAMINA_EXIT_ENUM)
#undef LAMINA_EXIT_ENUM
	LAMINA_EXIT_COUNT
};

#endif
