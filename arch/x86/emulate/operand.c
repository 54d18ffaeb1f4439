/* Operands of an emulated instruction: registers, effective and linear
 * addresses (SDM vol. 2, 2.1.5; vol. 3, 3.4), and their reads and writes. */
#include "emul.h"

u64 emu_gpr_get(const struct emu_ctx *ctx, unsigned int reg, unsigned int size)
{
	return ctx->gpr[reg] & size_mask(size);
}

void emu_gpr_set(struct emu_ctx *ctx, unsigned int reg, unsigned int size,
		 u64 v)
{
	ctx->gpr[reg] = x86_reg_write(ctx->gpr[reg], size, v);
}

/* In 64-bit mode only FS and GS have a base; elsewhere linear addresses
 * are 32 bits wide and wrap. */
u64 emu_linear(const struct emu_ctx *ctx, enum x86_seg seg, u64 ea)
{
	if (ctx->mode == X86_MODE_64)
		return seg == X86_FS || seg == X86_GS ? ea + ctx->seg_base[seg] : ea;
	return (ea + ctx->seg_base[seg]) & 0xffffffffull;
}

/* The segment of a data access: the override, or DS. */
enum x86_seg emu_data_seg(const struct x86_insn *insn)
{
	return insn->seg_override != X86_SEG_NONE ? insn->seg_override : X86_DS;
}

/* 16-bit forms: [BX+SI] [BX+DI] [BP+SI] [BP+DI] [SI] [DI] [BP] [BX]. */
static u64 ea16(const struct emu_ctx *ctx, const struct x86_insn *insn,
		enum x86_seg *seg)
{
	static const u8 base[8] = { X86_RBX, X86_RBX, X86_RBP, X86_RBP,
				    X86_RSI, X86_RDI, X86_RBP, X86_RBX };
	static const u8 index[4] = { X86_RSI, X86_RDI, X86_RSI, X86_RDI };
	unsigned int rm = modrm_rm(insn->modrm);
	u64 ea = (u64)insn->disp;

	if (rm == 6 && modrm_mod(insn->modrm) == 0)
		return ea; /* disp16 alone */
	ea += emu_gpr_get(ctx, base[rm], 2);
	if (rm < 4)
		ea += emu_gpr_get(ctx, index[rm], 2);
	if (base[rm] == X86_RBP)
		*seg = X86_SS;
	return ea;
}

/* 32- and 64-bit forms: base + index * scale + disp, or RIP-relative. */
static u64 ea32(const struct emu_ctx *ctx, const struct x86_insn *insn,
		enum x86_seg *seg)
{
	unsigned int mod = modrm_mod(insn->modrm), rm = modrm_rm(insn->modrm);
	unsigned int base = rm, index;
	u64 ea = (u64)insn->disp;

	if (mod == 0 && rm == 5) /* no base: disp32, or RIP + disp32 */
		return ctx->mode == X86_MODE_64 ? ea + ctx->rip + insn->len : ea;
	if (rm == 4) {
		base = insn->sib & 7;
		index = ((insn->sib >> 3) & 7) | ((insn->rex & 2u) << 2);
		if (index != X86_RSP) /* 4 is "no index"; REX.X makes it R12 */
			ea += ctx->gpr[index] << (insn->sib >> 6);
		if (base == 5 && mod == 0)
			return ea; /* disp32, no base */
	}
	if ((base == X86_RSP || base == X86_RBP) && !(insn->rex & 1))
		*seg = X86_SS; /* rSP, rBP; not R12, R13 */
	return ea + ctx->gpr[base | ((insn->rex & 1u) << 3)];
}

/* The effective address of a ModRM memory operand, wrapped to the address
 * size, and its segment: the override, or DS (SS for rBP/rSP bases). */
u64 emu_modrm_ea(const struct emu_ctx *ctx, const struct x86_insn *insn,
	     enum x86_seg *seg)
{
	u64 ea;

	*seg = X86_DS;
	ea = insn->adsize == 2 ? ea16(ctx, insn, seg) : ea32(ctx, insn, seg);
	if (insn->seg_override != X86_SEG_NONE)
		*seg = insn->seg_override;
	return ea & size_mask(insn->adsize);
}

static bool is_moffs(const struct x86_insn *insn)
{
	return !insn->vex && insn->opcode_map == 0 &&
	       insn->opcode >= 0xa0 && insn->opcode <= 0xa3;
}

/* String instructions that only write: STOS, and INS. */
static bool writes_rdi_only(const struct x86_insn *insn)
{
	return (insn->opcode & 0xfe) == 0xaa || (insn->opcode & 0xfe) == 0x6c;
}

u64 x86_operand_address(const struct emu_ctx *ctx, const struct x86_insn *insn)
{
	unsigned int ad = insn->adsize;
	enum x86_seg seg = emu_data_seg(insn);
	u64 ea;

	if (insn->has_modrm && modrm_mod(insn->modrm) != 3) {
		ea = emu_modrm_ea(ctx, insn, &seg);
	} else if (is_moffs(insn)) {
		ea = insn->imm & size_mask(ad);
	} else if (writes_rdi_only(insn)) {
		seg = X86_ES;
		ea = emu_gpr_get(ctx, X86_RDI, ad);
	} else {
		ea = emu_gpr_get(ctx, X86_RSI, ad);
	}
	return emu_linear(ctx, seg, ea);
}

/* A register operand: without REX, byte registers 4-7 are AH CH DH BH. */
struct operand emu_reg_operand(const struct x86_insn *insn, unsigned int reg,
			   unsigned int size)
{
	struct operand op = { OPND_REG, size, reg, false, 0 };

	if (size == 1 && !insn->rex && reg >= 4 && reg < 8) {
		op.reg = reg - 4;
		op.high8 = true;
	}
	return op;
}

struct operand emu_mem_operand(const struct emu_ctx *ctx,
			   const struct x86_insn *insn, unsigned int size)
{
	struct operand op = { OPND_MEM, size, 0, false, 0 };

	op.val = x86_operand_address(ctx, insn);
	return op;
}

/* Every immediate the emulator meets is sign-extended to the operand size
 * (imm8 of 83, imm32 of REX.W 81/C7/F7). */
struct operand emu_imm_operand(const struct x86_insn *insn)
{
	struct operand op = { OPND_IMM, insn->opsize, 0, false, 0 };

	op.val = sext(insn->imm, insn->imm_size) & size_mask(insn->opsize);
	return op;
}

/* Memory goes through the callbacks; the value travels in the low bytes of
 * a u64 (x86 is little-endian, as is every host that runs these tests).
 * for_write: the destination of a read-modify-write (see struct emu_ops). */
int emu_operand_read(struct emu_ctx *ctx, const struct operand *op, u64 *v, bool for_write)
{
	*v = 0;
	switch (op->kind) {
	case OPND_REG:
		*v = op->high8 ? (ctx->gpr[op->reg] >> 8) & 0xff
			       : emu_gpr_get(ctx, op->reg, op->size);
		return 0;
	case OPND_MEM:
		return ctx->ops->read(ctx, op->val, v, op->size, for_write);
	default:
		*v = op->val;
		return 0;
	}
}

int emu_operand_write(struct emu_ctx *ctx, const struct operand *op, u64 v)
{
	if (op->kind == OPND_MEM)
		return ctx->ops->write(ctx, op->val, &v, op->size);
	if (op->high8)
		ctx->gpr[op->reg] = (ctx->gpr[op->reg] & ~0xff00ull) |
				    ((v & 0xff) << 8);
	else
		emu_gpr_set(ctx, op->reg, op->size, v);
	return 0;
}

/* IP wraps at 16 bits in 16-bit code and at 32 bits in 32-bit code. */
void emu_advance_rip(struct emu_ctx *ctx, const struct x86_insn *insn)
{
	static const u64 ip_mask[3] = { 0xffff, 0xffffffff, ~0ull };

	ctx->rip = (ctx->rip + insn->len) & ip_mask[ctx->mode];
}
