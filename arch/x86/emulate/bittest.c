/* BT, BTS, BTR and BTC with a memory operand (SDM vol. 2, "BT"). With a
 * register bit offset the operand is a bit string: the offset is signed
 * and may address memory far from the operand, before it too; the CPU
 * reads the operand-size unit that holds the bit. With an imm8 the offset
 * is taken modulo the operand size. Only CF changes: the SDM leaves OF,
 * SF, AF and PF undefined and ZF unaffected, and the CPUs we checked keep
 * them, as we do. */
#include "emul.h"

/* log2 of the operand size in bits: 2 -> 4, 4 -> 5, 8 -> 6. */
static unsigned int bits_shift(unsigned int size)
{
	return size == 2 ? 4 : size == 4 ? 5 : 6;
}

enum emu_result emu_bittest(struct emu_ctx *ctx, const struct x86_insn *insn,
			    const struct op_def *def)
{
	unsigned int size = insn->opsize, shift = bits_shift(size);
	struct operand mem = { OPND_MEM, size, 0, false, 0 };
	enum x86_seg seg;
	u64 ea = emu_modrm_ea(ctx, insn, &seg), bit, v, cf;
	s64 offset;

	if (def->form == FORM_MEM_IMM) {
		bit = insn->imm & ((1u << shift) - 1);
	} else {
		offset = (s64)sext(emu_gpr_get(ctx, modrm_reg_ext(insn), size), size);
		/* >> of a negative value rounds down (GCC, Clang): a floor
		 * division, as the bit string needs. */
		ea = (ea + (u64)(offset >> shift) * size) &
		     size_mask(insn->adsize);
		bit = (u64)offset & ((1u << shift) - 1);
	}
	mem.val = emu_linear(ctx, seg, ea);
	if (emu_operand_read(ctx, &mem, &v, insn->op != X86_OP_BT))
		return EMU_FAULT;
	cf = (v >> bit) & 1;
	switch (insn->op) {
	case X86_OP_BTS: v |= 1ull << bit; break;
	case X86_OP_BTR: v &= ~(1ull << bit); break;
	case X86_OP_BTC: v ^= 1ull << bit; break;
	default: break;
	}
	if (insn->op != X86_OP_BT && emu_operand_write(ctx, &mem, v))
		return EMU_FAULT;
	ctx->rflags = (ctx->rflags & ~(u64)X86_FLAGS_CF) | (cf ? X86_FLAGS_CF : 0);
	return EMU_OK;
}
