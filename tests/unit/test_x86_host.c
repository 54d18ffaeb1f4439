/* Inline assembly that runs the emulated operations natively. Each stub
 * loads the arithmetic flags, runs one instruction, and saves the flags.
 * The stubs step 128 bytes below the stack pointer before they push, past
 * the red zone that the compiler may be using. */
#include "test_x86_host.h"

#define ARITH X86_FLAGS_ARITH

/* Around one instruction: RFLAGS's arithmetic bits from %[fin] (the rest
 * kept by %[keep]), then RFLAGS into %[f]. */
#define LOAD_FLAGS                                                             \
	"lea -128(%%rsp), %%rsp\n\t"                                           \
	"pushfq\n\t"                                                           \
	"andq %[keep], (%%rsp)\n\t"                                            \
	"orq %[fin], (%%rsp)\n\t"                                              \
	"popfq\n\t"
#define SAVE_FLAGS                                                             \
	"pushfq\n\t"                                                           \
	"popq %[f]\n\t"                                                        \
	"lea 128(%%rsp), %%rsp"

/* "op %src, %dst" on registers of the C types' width. */
#define ALU_STUB(name, insn, T, CONS)                                          \
	static u64 name(u64 a, u64 b, u64 fin, u64 *fout)                      \
	{                                                                      \
		T x = (T)a, y = (T)b;                                          \
		u64 f;                                                         \
		__asm__ volatile(LOAD_FLAGS insn " %[y], %[x]\n\t"           \
				 SAVE_FLAGS                                    \
				 : [x] "+" CONS(x), [f] "=&r"(f)               \
				 : [y] CONS(y), [fin] "r"(fin & ARITH),        \
				   [keep] "r"(~(u64)ARITH)                     \
				 : "cc", "memory");                            \
		*fout = f & ARITH;                                             \
		return (u64)x;                                                 \
	}

#define ALU_STUBS(op)                                  \
	ALU_STUB(host_##op##b, #op "b", u8, "q")       \
	ALU_STUB(host_##op##w, #op "w", u16, "r")      \
	ALU_STUB(host_##op##l, #op "l", u32, "r")      \
	ALU_STUB(host_##op##q, #op "q", u64, "r")

ALU_STUBS(add) ALU_STUBS(or) ALU_STUBS(adc) ALU_STUBS(sbb)
ALU_STUBS(and) ALU_STUBS(sub) ALU_STUBS(xor) ALU_STUBS(cmp)
ALU_STUBS(test)

typedef u64 (*alu_stub)(u64 a, u64 b, u64 fin, u64 *fout);

#define ROW(op) { host_##op##b, host_##op##w, host_##op##l, host_##op##q }
static const alu_stub alu_stubs[][4] = {
	[X86_OP_ADD] = ROW(add), [X86_OP_OR] = ROW(or),
	[X86_OP_ADC] = ROW(adc), [X86_OP_SBB] = ROW(sbb),
	[X86_OP_AND] = ROW(and), [X86_OP_SUB] = ROW(sub),
	[X86_OP_XOR] = ROW(xor), [X86_OP_CMP] = ROW(cmp),
	[X86_OP_TEST] = ROW(test),
};

static unsigned int size_index(unsigned int size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

u64 host_alu(enum x86_op op, unsigned int size, u64 a, u64 b, u64 flags_in,
	     u64 *flags_out)
{
	return alu_stubs[op][size_index(size)](a, b, flags_in, flags_out);
}

/* "bt* %off, (%base)": the memory form, whose offset reaches anywhere. */
#define BIT_STUB(name, insn, T)                                                \
	static unsigned int name(void *base, u64 off, u64 fin, u64 *fout)      \
	{                                                                      \
		T o = (T)off;                                                  \
		u64 f;                                                         \
		__asm__ volatile(LOAD_FLAGS insn " %[o], (%[p])\n\t"         \
				 SAVE_FLAGS                                    \
				 : [f] "=&r"(f)                                \
				 : [o] "r"(o), [p] "r"(base),                  \
				   [fin] "r"(fin & ARITH),                     \
				   [keep] "r"(~(u64)ARITH)                     \
				 : "cc", "memory");                            \
		*fout = f & ARITH;                                             \
		return f & X86_FLAGS_CF ? 1 : 0;                               \
	}

#define BIT_STUBS(op)                           \
	BIT_STUB(host_##op##w, #op "w", u16)    \
	BIT_STUB(host_##op##l, #op "l", u32)    \
	BIT_STUB(host_##op##q, #op "q", u64)

BIT_STUBS(bt) BIT_STUBS(bts) BIT_STUBS(btr) BIT_STUBS(btc)

typedef unsigned int (*bit_stub)(void *base, u64 off, u64 fin, u64 *fout);

#define BROW(op) { host_##op##w, host_##op##l, host_##op##q }
static const bit_stub bit_stubs[][3] = {
	[X86_OP_BT] = BROW(bt), [X86_OP_BTS] = BROW(bts),
	[X86_OP_BTR] = BROW(btr), [X86_OP_BTC] = BROW(btc),
};

unsigned int host_bit_string(enum x86_op op, unsigned int size, void *base,
			     u64 offset, u64 flags_in, u64 *flags_out)
{
	return bit_stubs[op][size_index(size) - 1](base, offset, flags_in,
						   flags_out);
}

/* String instructions: DF is set only around the one instruction. */
#define STRING_STUB(name, insn)                                                \
	static void name(struct host_string *r, bool df)                       \
	{                                                                      \
		__asm__ volatile("test %[df], %[df]\n\t"                       \
				 "jz 1f\n\t"                                   \
				 "std\n"                                       \
				 "1:\n\t" insn "\n\t"                          \
				 "cld"                                         \
				 : "+S"(r->rsi), "+D"(r->rdi), "+c"(r->rcx),   \
				   "+a"(r->rax)                                \
				 : [df] "r"((u64)df)                           \
				 : "cc", "memory");                            \
	}

#define STRING_STUBS(op, base)                                          \
	STRING_STUB(host_##op##b, #base "b")                            \
	STRING_STUB(host_##op##w, #base "w")                            \
	STRING_STUB(host_##op##l, #base "l")                            \
	STRING_STUB(host_##op##q, #base "q")                            \
	STRING_STUB(host_rep_##op##b, "rep " #base "b")                 \
	STRING_STUB(host_rep_##op##w, "rep " #base "w")                 \
	STRING_STUB(host_rep_##op##l, "rep " #base "l")                 \
	STRING_STUB(host_rep_##op##q, "rep " #base "q")

STRING_STUBS(movs, movs) STRING_STUBS(stos, stos) STRING_STUBS(lods, lods)

typedef void (*string_stub)(struct host_string *r, bool df);

#define SROW(op) { { host_##op##b, host_##op##w, host_##op##l, host_##op##q }, \
		   { host_rep_##op##b, host_rep_##op##w, host_rep_##op##l,      \
		     host_rep_##op##q } }
static const string_stub string_stubs[][2][4] = {
	[X86_OP_MOVS] = SROW(movs), [X86_OP_STOS] = SROW(stos),
	[X86_OP_LODS] = SROW(lods),
};

void host_string(enum x86_op op, unsigned int size, bool rep, bool df,
		 struct host_string *regs)
{
	string_stubs[op][rep][size_index(size)](regs, df);
}
