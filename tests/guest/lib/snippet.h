/* Running one instruction in 16-, 32- or 64-bit code with every general
 * register and RFLAGS given beforehand and read back afterwards: the
 * instruction's bytes go into a slot padded with NOPs inside a runner for
 * that mode, so that it ends where the slot does. Tests feed it generated encodings and compare what two runs
 * did (tests/guest/mmio.c).
 *
 * - 16-bit: a 16-bit protected-mode code segment, paging off; ES, SS, DS,
 *   FS and GS get the bases the caller gives (4 GiB limits, SS "big" so
 *   that ESP is the stack pointer).
 * - 32-bit: flat CS, DS and SS; ES, FS and GS get the caller's bases;
 *   paging on with the caller's page directory (CR4.PSE) unless cr3 is 0.
 * - 64-bit: a visit to long mode (longmode.h) on the caller's page tables;
 *   FS and GS bases through their MSRs.
 * RSP is loaded like any other register: the caller points it at stack
 * memory of its own, for the runner pushes RFLAGS there, and an exception
 * in the 32- and 16-bit runners is delivered on it. Interrupts stay off. */
#ifndef GUEST_SNIPPET_H
#define GUEST_SNIPPET_H

#define SNIP_SLOT_LEN 16 /* NOPs, then up to 15 bytes of instruction */

/* struct snip_io, for the assembly runners */
#define SNIP_IO_RFLAGS 128
#define SNIP_IO_FS_BASE 136
#define SNIP_IO_GS_BASE 144
#define SNIP_IO_HOST_SP 152

/* GDT entries after the library's own (desc.h), while snip_init's GDT is
 * loaded. */
#define SEL_SNIP_CODE16 0x38
#define SEL_SNIP_ES 0x40
#define SEL_SNIP_SS 0x48
#define SEL_SNIP_DS 0x50
#define SEL_SNIP_FS 0x58
#define SEL_SNIP_GS 0x60

#ifndef __ASSEMBLY__
#include <core/types.h>
#include <x86/emulate.h>

enum snip_mode { SNIP_16, SNIP_32, SNIP_64 };

struct snip_regs {
	u64 gpr[16]; /* enum x86_gpr order; 16/32-bit modes: the low 32 bits of the first 8 */
	u64 rflags;  /* only the arithmetic flags and DF are taken */
};

struct snip_env {
	u32 cr3;         /* 32-bit: page directory or 0; 64-bit: PML4 (required) */
	u64 seg_base[6]; /* enum x86_seg; CS ignored, DS and SS too outside 16-bit mode */
};

/* Installs the extended GDT and the 16-bit runner's IDT; once, first. */
void snip_init(void);
/* Runs code (len <= 15 bytes) once. Returns TRAP_NONE, or the vector of
 * the exception it raised; after one, the registers hold what they had at
 * the fault in 32-bit mode and are unchanged otherwise. */
int snip_run(enum snip_mode mode, const struct snip_env *env, const u8 *code,
	     unsigned int len, struct snip_regs *regs);
/* The address right after the instruction (for RIP-relative operands). */
u32 snip_next_rip(enum snip_mode mode);
#endif

#endif
