/* The host CPU as the reference for the emulator's arithmetic: the same
 * operation run natively, with inline assembly, flags in and out. */
#ifndef TEST_X86_HOST_H
#define TEST_X86_HOST_H

#include <x86/emulate.h>

/* op (ADD ... CMP, TEST) on size-byte a and b with the arithmetic flags
 * (X86_FLAGS_ARITH) of flags_in; the result (a, unchanged, for CMP and
 * TEST) and, in *flags_out, the arithmetic flags after. */
u64 host_alu(enum x86_op op, unsigned int size, u64 a, u64 b, u64 flags_in,
	     u64 *flags_out);

/* BT/BTS/BTR/BTC with a register bit offset on the bit string at base
 * (memory the caller owns, around the addressed bit); returns CF, and the
 * arithmetic flags in *flags_out. size is 2, 4 or 8. */
unsigned int host_bit_string(enum x86_op op, unsigned int size, void *base,
			     u64 offset, u64 flags_in, u64 *flags_out);

/* MOVS/STOS/LODS, with or without REP, in the host's 64-bit mode: the
 * registers go in and come out through rsi, rdi, rcx and rax. */
struct host_string {
	u64 rsi, rdi, rcx, rax;
};
void host_string(enum x86_op op, unsigned int size, bool rep, bool df,
		 struct host_string *regs);

#endif
