/* Execute a decoded instruction that touched trapped memory: MOV and its
 * extending forms, the ALU ops, TEST, XCHG, the bit tests and the string
 * moves. Memory goes through ctx->ops; registers, flags and RIP change only
 * once every access of the instruction (of the iteration, for REP) has
 * succeeded, so a fault leaves the state as it was. */
#include "emul.h"

/* The two operands of a non-string instruction, in the order the form
 * gives them: dst is written (or compared), src is read. */
static void operands(const struct emu_ctx *ctx, const struct x86_insn *insn,
		     const struct op_def *def, struct operand *dst,
		     struct operand *src)
{
	unsigned int size = insn->opsize;
	struct operand acc = emu_reg_operand(insn, X86_RAX, size);
	struct operand reg = emu_reg_operand(insn, modrm_reg_ext(insn), size);
	struct operand mem = emu_mem_operand(ctx, insn, size);

	switch (def->form) {
	case FORM_MEM_REG: *dst = mem; *src = reg; break;
	case FORM_REG_MEM: *dst = reg; *src = mem; break;
	case FORM_MEM_IMM: *dst = mem; *src = emu_imm_operand(insn); break;
	case FORM_ACC_MOFFS: *dst = acc; *src = mem; break;
	default: *dst = mem; *src = acc; break; /* FORM_MOFFS_ACC */
	}
}

/* MOV, MOVZX, MOVSX and MOVSXD: the extending forms read a narrower
 * source (MOVSXD's is 4 bytes, or the operand size when that is 2). */
static enum emu_result emu_mov(struct emu_ctx *ctx, const struct x86_insn *insn,
			       const struct op_def *def)
{
	struct operand dst, src;
	u64 v;

	operands(ctx, insn, def, &dst, &src);
	if (def->flags & OPF_SRC1)
		src.size = 1;
	else if (def->flags & OPF_SRC2)
		src.size = 2;
	else if (def->flags & OPF_SRC4)
		src.size = MIN(4u, dst.size);
	if (emu_operand_read(ctx, &src, &v, false))
		return EMU_FAULT;
	if (insn->op == X86_OP_MOVSX)
		v = sext(v, src.size);
	if (emu_operand_write(ctx, &dst, v))
		return EMU_FAULT;
	return EMU_OK;
}

/* ADD ... CMP and TEST: CMP and TEST only set the flags. */
static enum emu_result emu_alu(struct emu_ctx *ctx, const struct x86_insn *insn,
			       const struct op_def *def)
{
	struct operand dst, src;
	u64 a, b, res, rflags = ctx->rflags;

	bool writes = insn->op != X86_OP_CMP && insn->op != X86_OP_TEST;

	operands(ctx, insn, def, &dst, &src);
	if (emu_operand_read(ctx, &dst, &a, writes) || emu_operand_read(ctx, &src, &b, false))
		return EMU_FAULT;
	res = emu_alu_compute(insn->op, insn->opsize, a, b, &rflags);
	if (writes && emu_operand_write(ctx, &dst, res))
		return EMU_FAULT;
	ctx->rflags = rflags;
	return EMU_OK;
}

/* XCHG with memory: the memory is written first, so that a fault leaves
 * the register as it was. */
static enum emu_result emu_xchg(struct emu_ctx *ctx,
				const struct x86_insn *insn,
				const struct op_def *def)
{
	struct operand mem, reg;
	u64 m, r;

	operands(ctx, insn, def, &mem, &reg);
	if (emu_operand_read(ctx, &mem, &m, true) || emu_operand_read(ctx, &reg, &r, false) ||
	    emu_operand_write(ctx, &mem, r))
		return EMU_FAULT;
	emu_operand_write(ctx, &reg, m);
	return EMU_OK;
}

typedef enum emu_result (*emu_handler)(struct emu_ctx *ctx,
				       const struct x86_insn *insn,
				       const struct op_def *def);

static const emu_handler handlers[] = {
	[X86_OP_MOV] = emu_mov, [X86_OP_MOVZX] = emu_mov,
	[X86_OP_MOVSX] = emu_mov,
	[X86_OP_ADD] = emu_alu, [X86_OP_OR] = emu_alu, [X86_OP_ADC] = emu_alu,
	[X86_OP_SBB] = emu_alu, [X86_OP_AND] = emu_alu, [X86_OP_SUB] = emu_alu,
	[X86_OP_XOR] = emu_alu, [X86_OP_CMP] = emu_alu, [X86_OP_TEST] = emu_alu,
	[X86_OP_XCHG] = emu_xchg,
	[X86_OP_BT] = emu_bittest, [X86_OP_BTS] = emu_bittest,
	[X86_OP_BTR] = emu_bittest, [X86_OP_BTC] = emu_bittest,
};

/* Whether LOCK may prefix insn: only the read-modify-write instructions
 * of SDM Vol. 2A "LOCK" (ADD ... XOR but CMP, BTS/BTR/BTC, XCHG, INC,
 * DEC, NOT, NEG, CMPXCHG, CMPXCHG8B/16B, XADD), and only with a memory
 * destination. Anything else is #UD, whether lamina emulates it or not.
 * XCHG is locked with or without it. */
static bool lock_allowed(const struct x86_insn *insn)
{
	unsigned int reg = modrm_reg(insn->modrm);

	if (insn->vex || !insn->has_modrm || modrm_mod(insn->modrm) == 3)
		return false;
	switch (insn->opcode_map << 8 | insn->opcode) {
	case 0x00: case 0x01: case 0x08: case 0x09: case 0x10: case 0x11:
	case 0x18: case 0x19: case 0x20: case 0x21: case 0x28: case 0x29:
	case 0x30: case 0x31:   /* ALU r/m, reg */
	case 0x86: case 0x87:   /* XCHG */
	case 0x1ab: case 0x1b3: case 0x1bb: /* BTS BTR BTC r/m, reg */
	case 0x1b0: case 0x1b1: /* CMPXCHG */
	case 0x1c0: case 0x1c1: /* XADD */
		return true;
	case 0x80: case 0x81: case 0x82: case 0x83:
		return reg != 7; /* not CMP */
	case 0xf6: case 0xf7:
		return reg == 2 || reg == 3; /* NOT NEG */
	case 0xfe: case 0xff:
		return reg <= 1; /* INC DEC */
	case 0x1ba:
		return reg >= 5; /* BTS BTR BTC r/m, imm8 */
	case 0x1c7:
		return reg == 1; /* CMPXCHG8B/16B */
	default:
		return false;
	}
}

enum emu_result x86_emulate(struct emu_ctx *ctx, const struct x86_insn *insn)
{
	const struct op_def *def = x86_op_def(insn->opcode_map, insn->opcode);
	enum emu_result r;

	/* The CPU checks LOCK before any access. It raised this #UD itself
	 * before the exit: lamina sees the instruction only when the guest
	 * rewrote it since, and answers as the CPU would. */
	if ((insn->prefixes & X86_PFX_LOCK) && !lock_allowed(insn)) {
		ctx->fault = (struct emu_fault){ .vector = 6 }; /* #UD */
		return EMU_FAULT;
	}
	if (insn->vex || !def || insn->op == X86_OP_NONE || !insn->mem_operand)
		return EMU_UNSUPPORTED; /* also every register-only form */
	if (def->form == FORM_STRING)
		return emu_string(ctx, insn); /* advances RIP itself */
	if (insn->op >= ARRAY_SIZE(handlers) || !handlers[insn->op])
		return EMU_UNSUPPORTED;
	r = handlers[insn->op](ctx, insn, def);
	if (r == EMU_OK)
		emu_advance_rip(ctx, insn);
	return r;
}
