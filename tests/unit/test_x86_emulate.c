/* The emulator's non-string instructions: every form and operand size in
 * the three modes, with random addressing (ModRM, SIB, displacement, RIP-
 * relative, 16-bit forms), prefixes, registers, flags and segment bases,
 * checked against the oracle (Zydis operands, host CPU arithmetic): every
 * access, every register, the flags and RIP. Then the bit string of BT*
 * against the host CPU, faults, what is unsupported, and addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_x86_fake.h"
#include "test_x86_host.h"
#include "test_x86_oracle.h"

#define M16 (1u << X86_MODE_16)
#define M32 (1u << X86_MODE_32)
#define M64 (1u << X86_MODE_64)
#define ALL (M16 | M32 | M64)

/* One instruction form: opcode (0x0fxx: 0F map), the ModRM.reg values it
 * takes (0xff: any, 0: no ModRM), its operand sizes, modes, and whether
 * it takes LOCK. */
struct form {
	u16 opcode;
	u8 regs;
	bool byte;
	u8 modes;
	bool lockable;
};

#define ALU_FORMS(base, lock)                                            \
	{ (base), 0xff, true, ALL, lock }, { (base) + 1, 0xff, false, ALL, lock }, \
	{ (base) + 2, 0xff, true, ALL, false }, { (base) + 3, 0xff, false, ALL, false }

static const struct form forms[] = {
	ALU_FORMS(0x00, true), ALU_FORMS(0x08, true), ALU_FORMS(0x10, true),
	ALU_FORMS(0x18, true), ALU_FORMS(0x20, true), ALU_FORMS(0x28, true),
	ALU_FORMS(0x30, true), ALU_FORMS(0x38, false),
	{ 0x80, 0x7f, true, ALL, true }, { 0x80, 0x80, true, ALL, false },
	{ 0x81, 0x7f, false, ALL, true }, { 0x81, 0x80, false, ALL, false },
	{ 0x82, 0x7f, true, M16 | M32, true }, { 0x82, 0x80, true, M16 | M32, false },
	{ 0x83, 0x7f, false, ALL, true }, { 0x83, 0x80, false, ALL, false },
	{ 0x84, 0xff, true, ALL, false }, { 0x85, 0xff, false, ALL, false },
	{ 0xf6, 0x03, true, ALL, false }, { 0xf7, 0x03, false, ALL, false },
	{ 0x86, 0xff, true, ALL, true }, { 0x87, 0xff, false, ALL, true },
	{ 0x88, 0xff, true, ALL, false }, { 0x89, 0xff, false, ALL, false },
	{ 0x8a, 0xff, true, ALL, false }, { 0x8b, 0xff, false, ALL, false },
	{ 0xc6, 0x01, true, ALL, false }, { 0xc7, 0x01, false, ALL, false },
	{ 0xa0, 0, true, ALL, false }, { 0xa1, 0, false, ALL, false },
	{ 0xa2, 0, true, ALL, false }, { 0xa3, 0, false, ALL, false },
	{ 0x0fb6, 0xff, false, ALL, false }, { 0x0fb7, 0xff, false, ALL, false },
	{ 0x0fbe, 0xff, false, ALL, false }, { 0x0fbf, 0xff, false, ALL, false },
	{ 0x63, 0xff, false, M64, false },
	{ 0x0fa3, 0xff, false, ALL, false }, { 0x0fab, 0xff, false, ALL, true },
	{ 0x0fb3, 0xff, false, ALL, true }, { 0x0fbb, 0xff, false, ALL, true },
	{ 0x0fba, 0x10, false, ALL, false }, { 0x0fba, 0xe0, false, ALL, true },
};

static const u8 seg_prefixes[6] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };

/* Prefixes for size and mode; a random segment override, 67, REX bits. */
static unsigned int prefixes(u8 *b, enum x86_mode mode, unsigned int size,
			     bool lock)
{
	unsigned int n = 0;
	u8 rex;

	if (rnd() % 4 == 0)
		b[n++] = seg_prefixes[rnd() % 6];
	if (rnd() % 5 == 0)
		b[n++] = 0x67;
	if (lock)
		b[n++] = 0xf0;
	if ((size == 2 && mode != X86_MODE_16) || (size == 4 && mode == X86_MODE_16))
		b[n++] = 0x66;
	if (mode == X86_MODE_64) {
		rex = 0x40 | (rnd() & 7) | (size == 8 ? 8 : 0);
		if (rex != 0x40 || rnd() % 2) /* 40: SPL..DIL, not AH..BH */
			b[n++] = rex;
	}
	return n;
}

/* Random bytes for the instruction; ModRM with a memory operand. */
static void encode(u8 *b, enum x86_mode mode, const struct form *f,
		   unsigned int reg, unsigned int size, bool lock)
{
	unsigned int i, n;

	for (i = 0; i < X86_MAX_INSN_LEN; i++)
		b[i] = (u8)rnd();
	n = prefixes(b, mode, size, lock);
	if (f->opcode > 0xff)
		b[n++] = 0x0f;
	b[n++] = (u8)f->opcode;
	if (f->regs)
		b[n] = (u8)((rnd() % 3) << 6 | reg << 3 | (rnd() & 7));
}

struct tally {
	unsigned long cases, failed;
};

static void report(const u8 *b, enum x86_mode mode, const char *why)
{
	char hex[64] = "";
	unsigned int i;

	for (i = 0; i < X86_MAX_INSN_LEN; i++)
		sprintf(hex + 3 * i, "%02x ", b[i]);
	print_message("%d-bit, %s: %s\n", 16 << mode, hex, why);
}

static bool same_accesses(const struct fake_mem *m, const struct expect *want)
{
	unsigned int i;

	if (m->n != want->n)
		return false;
	for (i = 0; i < want->n; i++)
		if (memcmp(&m->log[i], &want->acc[i], sizeof(struct access)))
			return false;
	return true;
}

/* Emulate b in a random state; compare with the oracle. */
static void run_case(const u8 *b, enum x86_mode mode, struct tally *t)
{
	struct fake_mem m = { .fault_at = -1 };
	struct emu_ctx ctx;
	struct expect want;
	struct x86_insn insn;
	enum emu_result r;
	unsigned int i;

	fake_ctx(&ctx, &m, mode, true);
	memset(&want, 0, sizeof(want));
	if (!oracle(b, &ctx, &m, &want) ||
	    x86_decode(b, X86_MAX_INSN_LEN, mode, &insn)) {
		t->failed++;
		report(b, mode, "not decoded");
		return;
	}
	r = x86_emulate(&ctx, &insn);
	t->cases++;
	if (r == EMU_OK && ctx_diff(&ctx, &want.ctx, false) &&
	    same_accesses(&m, &want))
		return;
	if (t->failed++ >= 10)
		return;
	report(b, mode, r != EMU_OK ? "not EMU_OK" : "differs:");
	ctx_diff(&ctx, &want.ctx, true);
	for (i = 0; i < MAX(m.n, want.n) && i < FAKE_LOG; i++)
		print_message("  access %u: %d %#llx/%u %#llx, want %d %#llx/%u %#llx\n",
			      i, m.log[i].write, (unsigned long long)m.log[i].la,
			      m.log[i].size, (unsigned long long)m.log[i].val,
			      want.acc[i].write, (unsigned long long)want.acc[i].la,
			      want.acc[i].size, (unsigned long long)want.acc[i].val);
}

static void run_form(const struct form *f, enum x86_mode mode, struct tally *t)
{
	static const unsigned int sizes[] = { 2, 4, 8 };
	unsigned int reg, s, i, size;
	u8 b[X86_MAX_INSN_LEN];

	for (reg = 0; reg < 8; reg++) {
		if (f->regs && !(f->regs & (1u << reg)))
			continue;
		for (s = 0; s < (f->byte ? 1 : 2 + (mode == X86_MODE_64)); s++) {
			size = f->byte ? 1 : sizes[s];
			for (i = 0; i < 100; i++) {
				encode(b, mode, f, reg, size,
				       f->lockable && rnd() % 4 == 0);
				run_case(b, mode, t);
			}
		}
		if (!f->regs)
			break;
	}
}

static void test_forms(void **state)
{
	struct tally t = { 0, 0 };
	unsigned int i, mode;

	for (mode = 0; mode < 3; mode++)
		for (i = 0; i < ARRAY_SIZE(forms); i++)
			if (forms[i].modes & (1u << mode))
				run_form(&forms[i], (enum x86_mode)mode, &t);
	print_message("# %lu instructions emulated as the oracle runs them\n",
		      t.cases);
	assert_int_equal(t.failed, 0);
}

/* BT* with a register offset, against the host CPU running the same
 * instruction on the same bytes: the bit string reaches before and after
 * the operand, by whole operand-size units. */
static void bit_string_case(enum x86_op op, unsigned int size, s64 offset)
{
	enum { SPAN = 1 << 14 };
	static const u8 opcode[] = { [X86_OP_BT] = 0xa3, [X86_OP_BTS] = 0xab,
				     [X86_OP_BTR] = 0xb3, [X86_OP_BTC] = 0xbb };
	u8 *host = malloc(2 * SPAN), b[X86_MAX_INSN_LEN] = { 0 };
	struct fake_mem m = { .fault_at = -1, .window_size = 2 * SPAN };
	struct emu_ctx ctx;
	struct x86_insn insn;
	u64 host_flags;
	unsigned int i, n = 0, cf;

	for (i = 0; i < 2 * SPAN; i++)
		host[i] = (u8)rnd();
	m.window = malloc(2 * SPAN);
	memcpy(m.window, host, 2 * SPAN);
	m.window_base = (u64)host;
	fake_ctx(&ctx, &m, X86_MODE_64, true);
	ctx.gpr[X86_RBX] = (u64)host + SPAN;
	ctx.gpr[X86_RCX] = (u64)offset;
	if (size != 4)
		b[n++] = size == 2 ? 0x66 : 0x48;
	memcpy(b + n, (u8[]){ 0x0f, opcode[op], 0x0b }, 3); /* op [rbx], (e)cx */
	cf = host_bit_string(op, size, host + SPAN, (u64)offset, ctx.rflags,
			     &host_flags);
	assert_int_equal(x86_decode(b, sizeof(b), X86_MODE_64, &insn), 0);
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_OK);
	assert_int_equal(!!(ctx.rflags & X86_FLAGS_CF), cf);
	assert_memory_equal(m.window, host, 2 * SPAN);
	free(m.window);
	free(host);
}

static void test_bit_string(void **state)
{
	static const enum x86_op ops[] = { X86_OP_BT, X86_OP_BTS, X86_OP_BTR,
					   X86_OP_BTC };
	static const unsigned int sizes[] = { 2, 4, 8 };
	static const s64 edges[] = { 0, 1, -1, 15, 16, -16, -17, 31, 32, -32,
				     -33, 63, 64, -64, -65, 32767, -32768 };
	unsigned int o, s, i;
	s64 off;

	for (o = 0; o < 4; o++)
		for (s = 0; s < 3; s++) {
			for (i = 0; i < ARRAY_SIZE(edges); i++)
				bit_string_case(ops[o], sizes[s], edges[i]);
			for (i = 0; i < 100; i++) {
				off = (s64)(rnd() % 60000) - 30000;
				if (sizes[s] == 2) /* a 16-bit offset */
					off = (s16)off;
				bit_string_case(ops[o], sizes[s], off);
			}
		}
}

/* A fault on any access leaves registers, flags and RIP as they were and
 * passes the callback's fault on. */
static void fault_case(const char *bytes, unsigned int len, enum x86_mode mode,
		       int fault_at)
{
	struct fake_mem m = { .fault_at = fault_at };
	struct emu_ctx ctx, before;
	struct x86_insn insn;

	fake_ctx(&ctx, &m, mode, true);
	before = ctx;
	assert_int_equal(x86_decode((const u8 *)bytes, len, mode, &insn), 0);
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_FAULT);
	assert_true(ctx_equal(&ctx, &before));
	assert_int_equal(ctx.fault.vector, 14);
	assert_int_equal(m.n, fault_at + 1); /* nothing after the fault */
}

static void test_faults(void **state)
{
	fault_case("\x01\x03", 2, X86_MODE_64, 0);         /* ADD [rbx], eax: read */
	fault_case("\x01\x03", 2, X86_MODE_64, 1);         /* ... write */
	fault_case("\x03\x03", 2, X86_MODE_32, 0);         /* ADD eax, [ebx] */
	fault_case("\x87\x03", 2, X86_MODE_64, 1);         /* XCHG: write */
	fault_case("\x87\x03", 2, X86_MODE_16, 0);
	fault_case("\x0f\xab\x03", 3, X86_MODE_64, 1);     /* BTS: write */
	fault_case("\x0f\xa3\x03", 3, X86_MODE_64, 0);     /* BT: read */
	fault_case("\x89\x03", 2, X86_MODE_64, 0);         /* MOV store */
	fault_case("\x8b\x03", 2, X86_MODE_64, 0);         /* MOV load */
	fault_case("\x0f\xbe\x03", 3, X86_MODE_32, 0);     /* MOVSX */
	fault_case("\xa1\x00\x10", 3, X86_MODE_16, 0);     /* MOV ax, moffs */
	fault_case("\x83\x3b\x01", 3, X86_MODE_64, 0);     /* CMP [rbx], 1 */
}

/* Not executed: nothing read or written, nothing changed. */
static void test_unsupported(void **state)
{
	static const struct { const char *b; unsigned int n; enum x86_mode m; } cases[] = {
		{ "\x01\xc3", 2, X86_MODE_64 },         /* ADD ebx, eax: no memory */
		{ "\x8b\xc3", 2, X86_MODE_64 },         /* MOV: registers */
		{ "\x0f\xb6\xc3", 3, X86_MODE_32 },     /* MOVZX: registers */
		{ "\x05\x01\x00\x00\x00", 5, X86_MODE_64 }, /* ADD eax, imm */
		{ "\xf6\x13", 2, X86_MODE_64 },         /* NOT [rbx] */
		{ "\xff\x03", 2, X86_MODE_64 },         /* INC [rbx] */
		{ "\x0f\xb1\x0b", 3, X86_MODE_64 },     /* CMPXCHG */
		{ "\x0f\xc1\x0b", 3, X86_MODE_64 },     /* XADD */
		{ "\x63\x03", 2, X86_MODE_32 },         /* ARPL */
		{ "\xa6", 1, X86_MODE_64 },             /* CMPSB */
		{ "\xae", 1, X86_MODE_64 },             /* SCASB */
		{ "\x6c", 1, X86_MODE_64 },             /* INSB */
		{ "\xc5\xf8\x10\x03", 4, X86_MODE_64 }, /* VMOVUPS */
		{ "\xf0\xff\x03", 3, X86_MODE_64 },     /* LOCK INC [rbx] */
		{ "\xf0\x0f\xb1\x0b", 4, X86_MODE_64 }, /* LOCK CMPXCHG */
		{ "\xf0\x0f\xc7\x0b", 4, X86_MODE_32 }, /* LOCK CMPXCHG8B */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake_mem m = { .fault_at = -1 };
		struct emu_ctx ctx, before;
		struct x86_insn insn;

		fake_ctx(&ctx, &m, cases[i].m, true);
		before = ctx;
		assert_int_equal(x86_decode((const u8 *)cases[i].b, cases[i].n,
					    cases[i].m, &insn), 0);
		if (x86_emulate(&ctx, &insn) != EMU_UNSUPPORTED)
			print_message("case %u is emulated\n", i);
		assert_int_equal(x86_emulate(&ctx, &insn), EMU_UNSUPPORTED);
		assert_true(ctx_equal(&ctx, &before));
		assert_int_equal(m.n, 0);
	}
}

/* LOCK where the CPU raises #UD (SDM Vol. 2A, LOCK): an instruction
 * that cannot take it, or one that can with a register destination. It
 * is #UD before any memory access, and the state stays as it was. */
static void lock_ud_case(const u8 *bytes, unsigned int n, enum x86_mode mode)
{
	struct fake_mem m = { .fault_at = -1 };
	struct emu_ctx ctx, before;
	struct x86_insn insn;
	enum emu_result r;
	u8 b[X86_MAX_INSN_LEN] = { 0 }; /* as report() prints them */

	memcpy(b, bytes, n);
	fake_ctx(&ctx, &m, mode, true);
	before = ctx;
	assert_int_equal(x86_decode(b, n, mode, &insn), 0);
	r = x86_emulate(&ctx, &insn);
	if (r != EMU_FAULT || ctx.fault.vector != 6)
		report(b, mode, "LOCK not #UD");
	assert_int_equal(r, EMU_FAULT);
	assert_int_equal(ctx.fault.vector, 6);
	assert_false(ctx.fault.has_error);
	assert_true(ctx_equal(&ctx, &before));
	assert_int_equal(m.n, 0);
}

static void test_lock_ud(void **state)
{
	static const struct { const char *b; unsigned int n; enum x86_mode m; } cases[] = {
		{ "\xf0\x89\x03", 3, X86_MODE_64 },     /* LOCK MOV [rbx], eax */
		{ "\xf0\x39\x03", 3, X86_MODE_64 },     /* LOCK CMP [rbx], eax */
		{ "\xf0\x0f\xa3\x03", 4, X86_MODE_64 }, /* LOCK BT [rbx], eax */
		{ "\xf0\x85\x03", 3, X86_MODE_32 },     /* LOCK TEST */
		{ "\xf0\x03\x03", 3, X86_MODE_16 },     /* LOCK ADD reg, mem */
		{ "\xf0\x83\x3b\x01", 4, X86_MODE_64 }, /* LOCK CMP [rbx], 1 */
		{ "\xf0\x0f\xba\x23\x01", 5, X86_MODE_64 }, /* LOCK BT [rbx], 1 */
		{ "\xf0\xa4", 2, X86_MODE_64 },         /* LOCK MOVSB */
		{ "\xf0\x8b\x03", 3, X86_MODE_64 },     /* LOCK MOV eax, [rbx] */
		{ "\xf0\x01\xc3", 3, X86_MODE_64 },     /* LOCK ADD ebx, eax */
		{ "\xf0\x87\xc3", 3, X86_MODE_64 },     /* LOCK XCHG ebx, eax */
		{ "\xf0\x0f\xab\xc3", 4, X86_MODE_64 }, /* LOCK BTS ebx, eax */
		{ "\xf0\xff\xc3", 3, X86_MODE_64 },     /* LOCK INC ebx */
		{ "\xf0\x0f\x10\x03", 4, X86_MODE_64 }, /* LOCK MOVUPS (not emulated) */
	};
	u8 b[X86_MAX_INSN_LEN];
	unsigned int i, mode, reg;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		lock_ud_case((const u8 *)cases[i].b, cases[i].n, cases[i].m);
	/* Every emulated form that cannot take LOCK, with it. */
	for (mode = 0; mode < 3; mode++)
		for (i = 0; i < ARRAY_SIZE(forms); i++) {
			if (forms[i].lockable || !(forms[i].modes & (1u << mode)))
				continue;
			for (reg = 0; reg < 8; reg++) {
				if (forms[i].regs && !(forms[i].regs & (1u << reg)))
					continue;
				encode(b, (enum x86_mode)mode, &forms[i], reg,
				       forms[i].byte ? 1 : 4, true);
				lock_ud_case(b, sizeof(b), (enum x86_mode)mode);
			}
		}
}

/* LOCK on a form that takes it is emulated: a read checked as a write,
 * then the write. */
static void test_lock_allowed(void **state)
{
	struct fake_mem m = { .fault_at = -1 };
	struct emu_ctx ctx;
	struct x86_insn insn;

	fake_ctx(&ctx, &m, X86_MODE_64, false);
	assert_int_equal(x86_decode((const u8 *)"\xf0\x01\x03", 3, X86_MODE_64, &insn), 0);
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_OK); /* lock add [rbx], eax */
	assert_int_equal(m.n, 2);
	assert_true(m.log[0].for_write && !m.log[0].write);
	assert_true(m.log[1].write);
	assert_int_equal(ctx.rip, 3);
}

/* Operand addresses worked out by hand: default segments, overrides,
 * wrap-around, RIP-relative, moffs and string operands. */
struct addr_case {
	enum x86_mode mode;
	const char *b;
	unsigned int n;
	u64 want;
};

static void test_operand_address(void **state)
{
	static const struct addr_case cases[] = {
		/* [bp+si+0x10]: SS; 0xfff0 + 0x40 + 0x10 wraps to 0x40 */
		{ X86_MODE_16, "\x8b\x42\x10", 3, 0x30000 + 0x40 },
		{ X86_MODE_16, "\x26\x8b\x42\x10", 4, 0x10000 + 0x40 },
		/* [bx+di-2], [disp16]: DS */
		{ X86_MODE_16, "\x8b\x41\xfe", 3, 0x40000 + 0x1000 + 0x30 - 2 },
		{ X86_MODE_16, "\x8b\x06\x34\x12", 4, 0x40000 + 0x1234 },
		/* 67 in 16-bit code: [esp], SS */
		{ X86_MODE_16, "\x67\x8b\x04\x24", 4, 0x30000 + 0x7000 },
		/* [esp+8], [ebp+eax*4]: SS; [eax+ebp*1]: DS */
		{ X86_MODE_32, "\x8b\x44\x24\x08", 4, 0x30000 + 0x7000 + 8 },
		{ X86_MODE_32, "\x8b\x44\x85\x00", 4, 0x30000 + 0xfff0 + 0x28 },
		{ X86_MODE_32, "\x8b\x04\x28", 3, 0x40000 + 0xa + 0xfff0 },
		/* 32-bit linear addresses wrap */
		{ X86_MODE_32, "\x64\x8b\x05\x00\x00\x10\xf0", 7, 0xf0000 },
		/* 64-bit: DS/SS bases do not apply, FS does; RIP-relative */
		{ X86_MODE_64, "\x8b\x44\x24\x08", 4, 0x7000 + 8 },
		{ X86_MODE_64, "\x64\x8b\x44\x24\x08", 5, 0x0fff0000 + 0x7000 + 8 },
		/* 64-bit: a DS/ES prefix after FS/GS leaves the FS/GS override;
		 * one before it is replaced; in 32-bit code the last counts */
		{ X86_MODE_64, "\x64\x3e\x8b\x44\x24\x08", 6, 0x0fff0000 + 0x7000 + 8 },
		{ X86_MODE_64, "\x3e\x64\x8b\x44\x24\x08", 6, 0x0fff0000 + 0x7000 + 8 },
		{ X86_MODE_64, "\x65\x26\xa4", 3, 0x20000 + 0x40 },
		{ X86_MODE_32, "\x64\x26\x8b\x04\x28", 5, 0x10000 + 0xa + 0xfff0 },
		{ X86_MODE_64, "\x8b\x05\x10\x00\x00\x00", 6, 0x100000 + 6 + 0x10 },
		{ X86_MODE_64, "\x67\x8b\x05\xf0\xff\xff\xff", 7, 0x100000 + 7 - 0x10 },
		/* 67 in 64-bit: the address wraps at 32 bits */
		{ X86_MODE_64, "\x67\x8b\x40\x20", 4, 0xa + 0x20 },
		/* REX.B: base R12; REX.X: index R12 */
		{ X86_MODE_64, "\x41\x8b\x44\x24\x08", 5, 0x12 + 8 },
		{ X86_MODE_64, "\x42\x8b\x04\x20", 4, 0xffffffff0000000aull + 0x12 },
		/* moffs, string operands (source; destination for STOS) */
		{ X86_MODE_32, "\xa1\x78\x56\x34\x12", 5, 0x40000 + 0x12345678 },
		{ X86_MODE_64, "\x65\xa1\x08\x07\x06\x05\x04\x03\x02\x01", 10,
		  0x0102030405060708ull + 0x20000 },
		{ X86_MODE_16, "\xa4", 1, 0x40000 + 0x40 },
		{ X86_MODE_16, "\xaa", 1, 0x10000 + 0x30 },
	};
	static const u64 base[6] = { 0x10000, 0x20000, 0x30000, 0x40000,
				     0x0fff0000, 0x20000 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake_mem m = { .fault_at = -1 };
		struct emu_ctx ctx;
		struct x86_insn insn;

		fake_ctx(&ctx, &m, cases[i].mode, false);
		memcpy(ctx.seg_base, base, sizeof(base));
		ctx.gpr[X86_RAX] = 0xffffffff0000000aull; /* 67: EAX = 0xa */
		ctx.gpr[X86_RBX] = 0x1000;
		ctx.gpr[X86_RSP] = 0x7000;
		ctx.gpr[X86_RBP] = 0xfff0;
		ctx.gpr[X86_RSI] = 0x0040;
		ctx.gpr[X86_RDI] = 0x0030;
		ctx.gpr[X86_R12] = 0x12;
		ctx.rip = 0x100000;
		assert_int_equal(x86_decode((const u8 *)cases[i].b, cases[i].n,
					    cases[i].mode, &insn), 0);
		if (x86_operand_address(&ctx, &insn) != cases[i].want)
			print_message("case %u: %#llx\n", i, (unsigned long long)
				      x86_operand_address(&ctx, &insn));
		assert_int_equal(x86_operand_address(&ctx, &insn), cases[i].want);
	}
}

/* IP wraps at 16 bits in 16-bit code and at 32 in 32-bit code. */
static void test_rip_wrap(void **state)
{
	static const struct { enum x86_mode mode; u64 rip, want; } cases[] = {
		{ X86_MODE_16, 0xfffe, 0x0001 },
		{ X86_MODE_32, 0xfffffffe, 0x00000001 },
		{ X86_MODE_64, 0xfffffffe, 0x100000001ull },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake_mem m = { .fault_at = -1 };
		struct emu_ctx ctx;
		struct x86_insn insn;

		fake_ctx(&ctx, &m, cases[i].mode, false);
		ctx.rip = cases[i].rip;
		assert_int_equal(x86_decode((const u8 *)"\x89\x47\x01", 3,
					    cases[i].mode, &insn), 0);
		assert_int_equal(x86_emulate(&ctx, &insn), EMU_OK);
		assert_int_equal(ctx.rip, cases[i].want);
	}
}

/* Byte registers 4-7: AH CH DH BH without REX, SPL BPL SIL DIL with. */
static void test_byte_registers(void **state)
{
	struct fake_mem m = { .fault_at = -1 };
	struct emu_ctx ctx;
	struct x86_insn insn;

	fake_ctx(&ctx, &m, X86_MODE_64, false);
	ctx.gpr[X86_RAX] = 0x1122;
	ctx.gpr[X86_RSP] = 0x3344;
	assert_int_equal(x86_decode((const u8 *)"\x88\x23", 2, X86_MODE_64, &insn), 0);
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_OK); /* mov [rbx], ah */
	assert_int_equal(m.log[0].val, 0x11);
	assert_int_equal(x86_decode((const u8 *)"\x40\x88\x23", 3, X86_MODE_64, &insn), 0);
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_OK); /* mov [rbx], spl */
	assert_int_equal(m.log[1].val, 0x44);
	assert_int_equal(x86_decode((const u8 *)"\x8a\x23", 2, X86_MODE_32, &insn), 0);
	ctx.mode = X86_MODE_32;
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_OK); /* mov ah, [ebx] */
	assert_int_equal(ctx.gpr[X86_RAX], 0x22 | (u64)fake_byte(&m, 0) << 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_bit_string),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_lock_ud),
		cmocka_unit_test(test_lock_allowed),
		cmocka_unit_test(test_operand_address),
		cmocka_unit_test(test_rip_wrap),
		cmocka_unit_test(test_byte_registers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
