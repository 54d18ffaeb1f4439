/* A small reference executor: Zydis names the operands, ZydisCalc-
 * AbsoluteAddressEx finds memory, the host CPU does the arithmetic. Only
 * what the emulator must do is written here by hand: register write rules
 * (32-bit writes zero-extend), segment bases, and the bit-string address of
 * BT* (checked against the host CPU by its own test). */
#include <string.h>

#include "test_x86_host.h"
#include "test_x86_oracle.h"
#include "test_x86_ref.h"

/* A general-purpose register as Zydis names it: which of ours, which bits. */
struct zreg {
	unsigned int gpr, shift, size;
};

static bool zreg(ZydisRegister r, struct zreg *z)
{
	unsigned int i;

	if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_R15B) {
		i = r - ZYDIS_REGISTER_AL; /* AL CL DL BL AH CH DH BH SPL ... */
		*z = (struct zreg){ i < 4 ? i : i - 4,
				    i >= 4 && i < 8 ? 8 : 0, 1 };
	} else if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15W) {
		*z = (struct zreg){ r - ZYDIS_REGISTER_AX, 0, 2 };
	} else if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D) {
		*z = (struct zreg){ r - ZYDIS_REGISTER_EAX, 0, 4 };
	} else if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15) {
		*z = (struct zreg){ r - ZYDIS_REGISTER_RAX, 0, 8 };
	} else {
		return false;
	}
	return true;
}

static u64 mask(unsigned int size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static u64 reg_value(const struct emu_ctx *ctx, struct zreg z)
{
	return (ctx->gpr[z.gpr] >> z.shift) & mask(z.size);
}

static void reg_store(struct emu_ctx *ctx, struct zreg z, u64 v)
{
	u64 m = mask(z.size) << z.shift;

	if (z.size == 4)
		ctx->gpr[z.gpr] = v & 0xffffffffull;
	else
		ctx->gpr[z.gpr] = (ctx->gpr[z.gpr] & ~m) | ((v << z.shift) & m);
}

struct run {
	struct emu_ctx ctx;
	const struct fake_mem *m;
	const ZydisDecodedInstruction *zi;
	const ZydisDecodedOperand *ops;
	struct expect *out;
};

/* The effective address of a memory operand, before the segment. */
static u64 effective(const struct run *r, const ZydisDecodedOperand *op)
{
	ZydisRegisterContext rc;
	struct zreg z;
	u64 ea = 0;
	unsigned int i;

	memset(&rc, 0, sizeof(rc));
	for (i = ZYDIS_REGISTER_AL; i <= ZYDIS_REGISTER_R15; i++)
		if (zreg((ZydisRegister)i, &z))
			rc.values[i] = reg_value(&r->ctx, z);
	if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddressEx(r->zi, op, r->ctx.rip,
						     &rc, &ea)))
		return ~0ull;
	return ea & mask(r->zi->address_width / 8);
}

/* In 64-bit mode only FS and GS have a base; elsewhere 32 bits wrap. */
static u64 seg_linear(const struct run *r, const ZydisDecodedOperand *op, u64 ea)
{
	unsigned int seg = op->mem.segment - ZYDIS_REGISTER_ES;
	u64 base = r->ctx.seg_base[seg];

	if (r->ctx.mode == X86_MODE_64)
		return seg == X86_FS || seg == X86_GS ? ea + base : ea;
	return (ea + base) & 0xffffffffull;
}

static void log_access(struct run *r, bool write, u64 la, unsigned int size,
		       u64 v, bool for_write)
{
	r->out->acc[r->out->n++] = (struct access){ write, la, size, v & mask(size), for_write };
}

static u64 read_op(struct run *r, unsigned int i)
{
	const ZydisDecodedOperand *op = &r->ops[i];
	unsigned int size = op->size / 8;
	struct zreg z;
	u64 la, v;

	switch (op->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		zreg(op->reg.value, &z);
		return reg_value(&r->ctx, z);
	case ZYDIS_OPERAND_TYPE_MEMORY:
		la = seg_linear(r, op, effective(r, op));
		v = fake_value(r->m, la, size);
		log_access(r, false, la, size, v, !!(op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE));
		return v;
	default: /* Zydis sign-extends; ours is the first operand's size */
		return op->imm.value.u & mask(r->ops[0].size / 8);
	}
}

static void write_op(struct run *r, unsigned int i, u64 v)
{
	const ZydisDecodedOperand *op = &r->ops[i];
	struct zreg z;

	if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
		log_access(r, true, seg_linear(r, op, effective(r, op)),
			   op->size / 8, v, false);
	} else {
		zreg(op->reg.value, &z);
		reg_store(&r->ctx, z, v);
	}
}

static u64 sext(u64 v, unsigned int size)
{
	switch (size) {
	case 1: return (u64)(s64)(s8)v;
	case 2: return (u64)(s64)(s16)v;
	case 4: return (u64)(s64)(s32)v;
	default: return v;
	}
}

/* BT*: a register offset is signed and selects the operand-size unit
 * floor(offset / bits) units away from the operand (SDM, "BT"). */
static void bit_test(struct run *r, enum x86_op op)
{
	const ZydisDecodedOperand *mem = &r->ops[0], *src = &r->ops[1];
	unsigned int size = mem->size / 8, bits = 8 * size;
	u64 ea = effective(r, mem), la, v, bit;
	s64 off, units;

	if (src->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		off = (s64)sext(read_op(r, 1), size);
		units = off / (s64)bits - (off % (s64)bits < 0);
		ea = (ea + (u64)units * size) & mask(r->zi->address_width / 8);
		bit = (u64)(off - units * (s64)bits);
	} else {
		bit = src->imm.value.u % bits;
	}
	la = seg_linear(r, mem, ea);
	v = fake_value(r->m, la, size);
	log_access(r, false, la, size, v, !!(mem->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE));
	r->ctx.rflags = (r->ctx.rflags & ~(u64)X86_FLAGS_CF) |
			((v >> bit) & 1 ? X86_FLAGS_CF : 0);
	if (op == X86_OP_BTS)
		log_access(r, true, la, size, v | (1ull << bit), false);
	else if (op == X86_OP_BTR)
		log_access(r, true, la, size, v & ~(1ull << bit), false);
	else if (op == X86_OP_BTC)
		log_access(r, true, la, size, v ^ (1ull << bit), false);
}

static void alu(struct run *r, enum x86_op op)
{
	unsigned int size = r->ops[0].size / 8;
	u64 a = read_op(r, 0), b = read_op(r, 1), flags;
	u64 res = host_alu(op, size, a, b, r->ctx.rflags, &flags);

	if (op != X86_OP_CMP && op != X86_OP_TEST)
		write_op(r, 0, res);
	r->ctx.rflags = (r->ctx.rflags & ~(u64)X86_FLAGS_ARITH) | flags;
}

/* XCHG: the memory side is written first. */
static void xchg(struct run *r)
{
	unsigned int mem = r->ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY ? 0 : 1;
	u64 m = read_op(r, mem), g = read_op(r, 1 - mem);

	write_op(r, mem, g);
	write_op(r, 1 - mem, m);
}

static enum x86_op op_of(ZydisMnemonic mn)
{
	static const struct { ZydisMnemonic mn; enum x86_op op; } map[] = {
		{ ZYDIS_MNEMONIC_MOV, X86_OP_MOV }, { ZYDIS_MNEMONIC_MOVZX, X86_OP_MOVZX },
		{ ZYDIS_MNEMONIC_MOVSX, X86_OP_MOVSX }, { ZYDIS_MNEMONIC_MOVSXD, X86_OP_MOVSX },
		{ ZYDIS_MNEMONIC_ADD, X86_OP_ADD }, { ZYDIS_MNEMONIC_OR, X86_OP_OR },
		{ ZYDIS_MNEMONIC_ADC, X86_OP_ADC }, { ZYDIS_MNEMONIC_SBB, X86_OP_SBB },
		{ ZYDIS_MNEMONIC_AND, X86_OP_AND }, { ZYDIS_MNEMONIC_SUB, X86_OP_SUB },
		{ ZYDIS_MNEMONIC_XOR, X86_OP_XOR }, { ZYDIS_MNEMONIC_CMP, X86_OP_CMP },
		{ ZYDIS_MNEMONIC_TEST, X86_OP_TEST }, { ZYDIS_MNEMONIC_XCHG, X86_OP_XCHG },
		{ ZYDIS_MNEMONIC_BT, X86_OP_BT }, { ZYDIS_MNEMONIC_BTS, X86_OP_BTS },
		{ ZYDIS_MNEMONIC_BTR, X86_OP_BTR }, { ZYDIS_MNEMONIC_BTC, X86_OP_BTC },
	};
	unsigned int i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].mn == mn)
			return map[i].op;
	return X86_OP_NONE;
}

static void execute(struct run *r, enum x86_op op)
{
	u64 v;

	switch (op) {
	case X86_OP_MOV:
	case X86_OP_MOVZX:
		write_op(r, 0, read_op(r, 1));
		break;
	case X86_OP_MOVSX:
		v = read_op(r, 1);
		write_op(r, 0, sext(v, r->ops[1].size / 8));
		break;
	case X86_OP_XCHG:
		xchg(r);
		break;
	case X86_OP_BT: case X86_OP_BTS: case X86_OP_BTR: case X86_OP_BTC:
		bit_test(r, op);
		break;
	default:
		alu(r, op);
		break;
	}
}

/* Zydis 4.0 names R13D the base of [index*scale + disp32] (SIB base 101,
 * mod 00) with 67 and REX.B in 64-bit mode, and drops the displacement
 * (zyantific/zydis#592, fixed after 4.0). REX.B does not count there. */
static void fix_no_base(const ZydisDecodedInstruction *zi,
			ZydisDecodedOperand *ops)
{
	unsigned int i;

	if (!(zi->attributes & ZYDIS_ATTRIB_HAS_SIB) || zi->raw.modrm.mod != 0 ||
	    (zi->raw.sib.base & 7) != 5)
		return;
	for (i = 0; i < zi->operand_count; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    ops[i].mem.base == ZYDIS_REGISTER_R13D) {
			ops[i].mem.base = ZYDIS_REGISTER_NONE;
			ops[i].mem.disp.has_displacement = true;
			ops[i].mem.disp.value = zi->raw.disp.value;
		}
}

bool oracle(const u8 *bytes, const struct emu_ctx *before,
	    const struct fake_mem *m, struct expect *out)
{
	static const u64 ip_mask[3] = { 0xffff, 0xffffffff, ~0ull };
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	struct run r = { *before, m, &zi, ops, out };
	enum x86_op op;

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(ref_decoder(before->mode), bytes,
						 X86_MAX_INSN_LEN, &zi, ops)))
		return false;
	fix_no_base(&zi, ops);
	/* MOVSXD r16, r/m16 (SDM): Zydis gives it a 32-bit source, but the
	 * Intel CPU this was checked on reads 2 bytes (no fault when the
	 * third is on an unmapped page). */
	if (zi.mnemonic == ZYDIS_MNEMONIC_MOVSXD && ops[0].size == 16)
		ops[1].size = 16;
	op = op_of(zi.mnemonic);
	if (op == X86_OP_NONE)
		return false;
	out->n = 0;
	execute(&r, op);
	r.ctx.rip = (r.ctx.rip + zi.length) & ip_mask[before->mode];
	out->ctx = r.ctx;
	return true;
}
