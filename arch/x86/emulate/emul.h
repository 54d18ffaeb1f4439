/* Private to the emulator: operands, registers, addresses and flags. */
#ifndef X86_EMULATE_EMUL_H
#define X86_EMULATE_EMUL_H

#include "opcodes.h"

enum operand_kind { OPND_REG, OPND_MEM, OPND_IMM };

/* One operand of an instruction, resolved against a context. */
struct operand {
	enum operand_kind kind;
	unsigned int size;  /* bytes */
	unsigned int reg;   /* OPND_REG: GPR number */
	bool high8;         /* OPND_REG: AH, CH, DH or BH */
	u64 val;            /* OPND_MEM: linear address; OPND_IMM: value */
};

static inline u64 size_mask(unsigned int size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static inline u64 sign_bit(unsigned int size)
{
	return 1ull << (8 * size - 1);
}

/* v's low size bytes, sign-extended to 64 bits. */
static inline u64 sext(u64 v, unsigned int size)
{
	unsigned int shift = 64 - 8 * size;

	return (u64)((s64)(v << shift) >> shift);
}

/* Registers (operand.c). A 32-bit write zero-extends, 8- and 16-bit
 * writes keep the rest of the register. */
u64 emu_gpr_get(const struct emu_ctx *ctx, unsigned int reg, unsigned int size);
void emu_gpr_set(struct emu_ctx *ctx, unsigned int reg, unsigned int size,
		 u64 v);

/* Addresses (operand.c). */
u64 emu_linear(const struct emu_ctx *ctx, enum x86_seg seg, u64 ea);
u64 emu_modrm_ea(const struct emu_ctx *ctx, const struct x86_insn *insn,
	     enum x86_seg *seg);
enum x86_seg emu_data_seg(const struct x86_insn *insn);

/* Operands (operand.c): ModRM.reg, the memory operand, the immediate. */
struct operand emu_reg_operand(const struct x86_insn *insn, unsigned int reg,
			   unsigned int size);
struct operand emu_mem_operand(const struct emu_ctx *ctx,
			   const struct x86_insn *insn, unsigned int size);
struct operand emu_imm_operand(const struct x86_insn *insn);
int emu_operand_read(struct emu_ctx *ctx, const struct operand *op, u64 *v, bool for_write);
int emu_operand_write(struct emu_ctx *ctx, const struct operand *op, u64 v);
void emu_advance_rip(struct emu_ctx *ctx, const struct x86_insn *insn);

static inline unsigned int modrm_reg_ext(const struct x86_insn *insn)
{
	return modrm_reg(insn->modrm) | ((insn->rex & 4u) << 1);
}

/* Arithmetic (flags.c): the result of a group-1 op or TEST, and the
 * arithmetic flags it sets, merged into *rflags. */
u64 emu_alu_compute(enum x86_op op, unsigned int size, u64 dst, u64 src,
		    u64 *rflags);

/* The handlers (emulate.c, string.c, bittest.c). */
enum emu_result emu_string(struct emu_ctx *ctx, const struct x86_insn *insn);
enum emu_result emu_bittest(struct emu_ctx *ctx, const struct x86_insn *insn,
			    const struct op_def *def);

#endif
