/* Encoding x86 instructions with a memory operand, for tests that
 * generate their instructions (SDM vol. 2, chapter 2). Registers are
 * numbered as in enum x86_gpr. */
#ifndef GUEST_X86ENC_H
#define GUEST_X86ENC_H

#include <core/types.h>
#include <x86/emulate.h>

#define X86ENC_NONE 0xff /* no base, no index */
#define X86ENC_RIP 0xfe  /* base: RIP-relative (64-bit mode) */

/* A memory operand: [base + index << scale + disp] at an address size,
 * or a bare offset (moffs, the MOV A0-A3 forms). */
struct x86_mem {
	u8 adsize;    /* 2, 4 or 8 bytes */
	u8 base;      /* register, X86ENC_NONE or X86ENC_RIP */
	u8 index;     /* register (not RSP) or X86ENC_NONE */
	u8 scale;     /* shift, 0-3 */
	u8 disp_size; /* 0, 1, 2 (16-bit addressing) or 4 */
	bool sib;     /* use a SIB byte even where none is needed */
	bool moffs;   /* no ModRM: the offset, adsize bytes */
	u64 disp;     /* RIP-relative: the target address instead */
};

struct x86_spec {
	u8 prefix[4]; /* legacy prefixes, emitted in this order */
	u8 n_prefix;
	bool rex_w;
	bool rex;     /* a REX prefix even when no bit needs it */
	u8 opcode[3];
	u8 op_len;
	u8 reg;       /* ModRM.reg: a register, or the opcode extension */
	const struct x86_mem *mem; /* NULL: no ModRM (string instructions) */
	u64 imm;
	u8 imm_size;
};

/* The bytes of spec in mode, for an instruction followed by next_rip
 * (what RIP-relative operands count from). Returns the length, or 0
 * when it has no encoding: over 15 bytes, REX or registers 8-15 outside
 * 64-bit mode, a displacement that does not fit, an impossible form. */
unsigned int x86_encode(const struct x86_spec *spec, enum x86_mode mode, u64 next_rip,
			u8 out[X86_MAX_INSN_LEN]);

/* The default segment of a ModRM memory operand: SS for rBP and rSP
 * bases (16-bit: the BP forms), DS otherwise. */
enum x86_seg x86_mem_default_seg(const struct x86_mem *m);

#endif
