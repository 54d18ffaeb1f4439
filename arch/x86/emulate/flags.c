/* The group-1 ALU operations and TEST, with the arithmetic flags exactly
 * as the CPU sets them (SDM vol. 1, appendix A; vol. 2 for each
 * instruction). AF is undefined after AND, OR, XOR and TEST: we clear it,
 * as the Intel and AMD CPUs we checked do. */
#include "emul.h"

/* PF: set when the low byte has an even number of one bits. */
static u64 parity_flag(u64 res)
{
	u64 x = res & 0xff;

	x ^= x >> 4;
	x ^= x >> 2;
	x ^= x >> 1;
	return x & 1 ? 0 : X86_FLAGS_PF;
}

/* ZF, SF and PF of a result. */
static u64 result_flags(u64 res, unsigned int size)
{
	return (res == 0 ? X86_FLAGS_ZF : 0) |
	       (res & sign_bit(size) ? X86_FLAGS_SF : 0) | parity_flag(res);
}

/* CF, OF and AF of res = a + b + carry-in: the carry out of the top bit
 * and of bit 3, and a sign change that the operands' signs do not explain. */
static u64 add_flags(u64 a, u64 b, u64 res, unsigned int size)
{
	u64 sign = sign_bit(size);
	u64 carries = (a & b) | ((a | b) & ~res);

	return (carries & sign ? X86_FLAGS_CF : 0) |
	       ((a ^ res) & (b ^ res) & sign ? X86_FLAGS_OF : 0) |
	       ((a ^ b ^ res) & 0x10 ? X86_FLAGS_AF : 0);
}

/* The same for res = a - b - borrow-in: the borrow into the top bit. */
static u64 sub_flags(u64 a, u64 b, u64 res, unsigned int size)
{
	u64 sign = sign_bit(size);
	u64 borrows = (~a & b) | (~(a ^ b) & res);

	return (borrows & sign ? X86_FLAGS_CF : 0) |
	       ((a ^ b) & (a ^ res) & sign ? X86_FLAGS_OF : 0) |
	       ((a ^ b ^ res) & 0x10 ? X86_FLAGS_AF : 0);
}

u64 emu_alu_compute(enum x86_op op, unsigned int size, u64 a, u64 b,
		    u64 *rflags)
{
	u64 mask = size_mask(size), cf = *rflags & X86_FLAGS_CF ? 1 : 0;
	u64 res, flags;

	a &= mask;
	b &= mask;
	switch (op) {
	case X86_OP_ADD:
	case X86_OP_ADC:
		res = (a + b + (op == X86_OP_ADC ? cf : 0)) & mask;
		flags = add_flags(a, b, res, size);
		break;
	case X86_OP_SUB:
	case X86_OP_SBB:
	case X86_OP_CMP:
		res = (a - b - (op == X86_OP_SBB ? cf : 0)) & mask;
		flags = sub_flags(a, b, res, size);
		break;
	case X86_OP_OR:
		res = a | b;
		flags = 0;
		break;
	case X86_OP_XOR:
		res = a ^ b;
		flags = 0;
		break;
	default: /* AND, TEST */
		res = a & b;
		flags = 0;
		break;
	}
	*rflags = (*rflags & ~(u64)X86_FLAGS_ARITH) | flags |
		  result_flags(res, size);
	return res;
}
