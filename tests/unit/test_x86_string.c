/* MOVS, STOS and LODS, with and without REP: against the host CPU running
 * the same instruction on the same bytes (64-bit mode), then by hand where
 * the host cannot go: 16/32-bit address sizes and their wrap-around,
 * segments, the max_rep split, faults in the middle of a REP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "test_x86_fake.h"
#include "test_x86_host.h"

static const u8 opcodes[] = { [X86_OP_MOVS] = 0xa4, [X86_OP_STOS] = 0xaa,
			      [X86_OP_LODS] = 0xac };

/* [F3] [66 | REX.W] opcode, for a 64-bit mode string instruction. */
static unsigned int encode64(u8 *b, enum x86_op op, unsigned int size, bool rep)
{
	unsigned int n = 0;

	if (rep)
		b[n++] = 0xf3;
	if (size == 2)
		b[n++] = 0x66;
	if (size == 8)
		b[n++] = 0x48;
	b[n++] = (u8)(opcodes[op] + (size > 1));
	return n;
}

/* Run until done: every EMU_CONTINUE must leave RIP alone and take exactly
 * max_rep (or 1024) iterations off RCX. Returns the number of calls. */
static unsigned int run_to_end(struct emu_ctx *ctx, const struct x86_insn *insn)
{
	unsigned int calls = 0, max = ctx->max_rep ? ctx->max_rep : 1024;
	u64 rip = ctx->rip, rcx;
	enum emu_result r;

	for (;;) {
		rcx = ctx->gpr[X86_RCX];
		r = x86_emulate(ctx, insn);
		calls++;
		if (r != EMU_CONTINUE)
			break;
		assert_int_equal(ctx->rip, rip);
		assert_int_equal(ctx->gpr[X86_RCX], rcx - max);
	}
	assert_int_equal(r, EMU_OK);
	assert_int_equal(ctx->rip, rip + insn->len);
	return calls;
}

struct string_case {
	enum x86_op op;
	unsigned int size, count, max_rep;
	bool rep, df;
};

static void host_case(const struct string_case *c)
{
	enum { ARENA = 1024 };
	u8 *host = malloc(ARENA), b[4];
	struct fake_mem m = { .fault_at = -1, .window_size = ARENA };
	struct host_string regs;
	struct emu_ctx ctx;
	struct x86_insn insn;
	unsigned int i, calls, max = c->max_rep ? c->max_rep : 1024;

	for (i = 0; i < ARENA; i++)
		host[i] = (u8)rnd();
	m.window = malloc(ARENA);
	memcpy(m.window, host, ARENA);
	m.window_base = (u64)host;
	fake_ctx(&ctx, &m, X86_MODE_64, true);
	regs = (struct host_string){ (u64)host + 256, (u64)host + 700,
				     c->rep ? c->count : rnd(), rnd() };
	ctx.gpr[X86_RSI] = regs.rsi;
	ctx.gpr[X86_RDI] = regs.rdi;
	ctx.gpr[X86_RCX] = regs.rcx;
	ctx.gpr[X86_RAX] = regs.rax;
	ctx.rflags = (ctx.rflags & ~X86_FLAGS_DF) | (c->df ? X86_FLAGS_DF : 0);
	ctx.max_rep = c->max_rep;
	host_string(c->op, c->size, c->rep, c->df, &regs);
	assert_int_equal(x86_decode(b, encode64(b, c->op, c->size, c->rep),
				    X86_MODE_64, &insn), 0);
	calls = run_to_end(&ctx, &insn);
	assert_int_equal(calls, c->rep && c->count ? (c->count + max - 1) / max : 1);
	assert_memory_equal(m.window, host, ARENA);
	assert_int_equal(ctx.gpr[X86_RSI], regs.rsi);
	assert_int_equal(ctx.gpr[X86_RDI], regs.rdi);
	assert_int_equal(ctx.gpr[X86_RCX], regs.rcx);
	assert_int_equal(ctx.gpr[X86_RAX], regs.rax);
	free(m.window);
	free(host);
}

static void test_against_host(void **state)
{
	static const enum x86_op ops[] = { X86_OP_MOVS, X86_OP_STOS, X86_OP_LODS };
	static const unsigned int sizes[] = { 1, 2, 4, 8 }, maxes[] = { 0, 1, 3 };
	struct string_case c;
	unsigned int o, s, k, x;

	/* count 0-9 with REP, and (k == 10) once without */
	for (o = 0; o < 3; o++)
		for (s = 0; s < 4; s++)
			for (k = 0; k <= 10; k++)
				for (x = 0; x < 3; x++) {
					c = (struct string_case){ ops[o], sizes[s], k,
								  maxes[x], k < 10, x == 1 };
					host_case(&c);
					c.df = !c.df;
					host_case(&c);
				}
}

/* Emulate b; the accesses must be exactly want[0..n). */
static void expect_accesses(struct emu_ctx *ctx, const char *b, unsigned int len,
			    const struct access *want, unsigned int n)
{
	struct fake_mem *m = ctx->opaque;
	struct x86_insn insn;
	unsigned int i;

	assert_int_equal(x86_decode((const u8 *)b, len, ctx->mode, &insn), 0);
	assert_int_equal(x86_emulate(ctx, &insn), EMU_OK);
	assert_int_equal(m->n, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(m->log[i].write, want[i].write);
		assert_int_equal(m->log[i].la, want[i].la);
		assert_int_equal(m->log[i].size, want[i].size);
	}
}

/* REP MOVSW with 16-bit addresses: SI and DI wrap at 64 KiB and the rest
 * of RSI, RDI and RCX stays as it was. */
static void test_wrap16(void **state)
{
	static const struct access want[] = {
		{ false, 0x1fffe, 2, 0, false }, { true, 0x2fffc, 2, 0, false },
		{ false, 0x10000, 2, 0, false }, { true, 0x2fffe, 2, 0, false },
		{ false, 0x10002, 2, 0, false }, { true, 0x20000, 2, 0, false },
	};
	struct fake_mem m = { .fault_at = -1 };
	struct emu_ctx ctx;

	fake_ctx(&ctx, &m, X86_MODE_16, false);
	ctx.seg_base[X86_DS] = 0x10000;
	ctx.seg_base[X86_ES] = 0x20000;
	ctx.gpr[X86_RSI] = 0xdead00000000fffeull;
	ctx.gpr[X86_RDI] = 0xbeef00000000fffcull;
	ctx.gpr[X86_RCX] = 0xcafe000000000003ull;
	expect_accesses(&ctx, "\xf3\xa5", 2, want, 6);
	assert_int_equal(ctx.gpr[X86_RSI], 0xdead000000000004ull);
	assert_int_equal(ctx.gpr[X86_RDI], 0xbeef000000000002ull);
	assert_int_equal(ctx.gpr[X86_RCX], 0xcafe000000000000ull);
}

/* 67 in 64-bit mode: EDI and ECX, which zero-extend when written; the
 * address wraps at 4 GiB. DF=1 walks down. */
static void test_adsize32_in64(void **state)
{
	static const struct access want[] = {
		{ true, 0xfffffffe, 1, 0, false }, { true, 0xffffffff, 1, 0, false },
		{ true, 0x00000000, 1, 0, false },
	};
	static const struct access down[] = {
		{ true, 0x00000001, 2, 0, false }, { true, 0xffffffff, 2, 0, false },
	};
	struct fake_mem m = { .fault_at = -1 };
	struct emu_ctx ctx;

	fake_ctx(&ctx, &m, X86_MODE_64, false);
	ctx.gpr[X86_RDI] = 0xaaaabbbbfffffffeull;
	ctx.gpr[X86_RCX] = 0x1234567800000003ull;
	expect_accesses(&ctx, "\x67\xf3\xaa", 3, want, 3);
	assert_int_equal(ctx.gpr[X86_RDI], 1);
	assert_int_equal(ctx.gpr[X86_RCX], 0);
	m.n = 0;
	ctx.rflags |= X86_FLAGS_DF;
	ctx.gpr[X86_RCX] = 2;
	expect_accesses(&ctx, "\x66\x67\xf3\xab", 4, down, 2);
	assert_int_equal(ctx.gpr[X86_RDI], 0xfffffffdull);
}

/* The source takes a segment override, the destination is always ES; in
 * 64-bit mode only FS and GS have bases. */
static void test_segments(void **state)
{
	static const struct access fs32[] = {
		{ false, 0x3000 + 0x10, 1, 0, false }, { true, 0x1000 + 0x20, 1, 0, false },
	};
	static const struct access es32[] = { { false, 0x1000 + 0x11, 4, 0, false } };
	static const struct access gs64[] = {
		{ false, 0x5000 + 0x10, 8, 0, false }, { true, 0x20, 8, 0, false },
	};
	struct fake_mem m = { .fault_at = -1 };
	struct emu_ctx ctx;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		fake_ctx(&ctx, &m, i < 2 ? X86_MODE_32 : X86_MODE_64, false);
		ctx.seg_base[X86_ES] = 0x1000;
		ctx.seg_base[X86_DS] = 0x2000;
		ctx.seg_base[X86_FS] = 0x3000;
		ctx.seg_base[X86_GS] = 0x5000;
		ctx.gpr[X86_RSI] = 0x10 + (i == 1);
		ctx.gpr[X86_RDI] = 0x20;
		m.n = 0;
		if (i == 0)
			expect_accesses(&ctx, "\x64\xa4", 2, fs32, 2);  /* FS: MOVSB */
		else if (i == 1)
			expect_accesses(&ctx, "\x26\xad", 2, es32, 1);  /* ES: LODSD */
		else
			expect_accesses(&ctx, "\x65\x48\xa5", 3, gs64, 2); /* GS: MOVSQ */
	}
}

/* REP with RCX = 0 touches nothing and completes; F2 repeats as F3 does. */
static void test_rep_zero_and_repne(void **state)
{
	struct fake_mem m = { .fault_at = -1 };
	struct emu_ctx ctx;
	struct x86_insn insn;

	fake_ctx(&ctx, &m, X86_MODE_32, false);
	assert_int_equal(x86_decode((const u8 *)"\xf3\xa4", 2, X86_MODE_32, &insn), 0);
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_OK);
	assert_int_equal(m.n, 0);
	assert_int_equal(ctx.rip, 2);
	ctx.gpr[X86_RCX] = 3;
	assert_int_equal(x86_decode((const u8 *)"\xf2\xa4", 2, X86_MODE_32, &insn), 0);
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_OK);
	assert_int_equal(m.n, 6);
	assert_int_equal(ctx.gpr[X86_RCX], 0);
	assert_int_equal(ctx.gpr[X86_RSI], 3);
}

/* The default is 1024 iterations a call. */
static void test_default_max_rep(void **state)
{
	struct fake_mem m = { .fault_at = -1 };
	struct emu_ctx ctx;
	struct x86_insn insn;

	fake_ctx(&ctx, &m, X86_MODE_64, false);
	ctx.gpr[X86_RCX] = 3000;
	assert_int_equal(x86_decode((const u8 *)"\xf3\xaa", 2, X86_MODE_64, &insn), 0);
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_CONTINUE);
	assert_int_equal(ctx.gpr[X86_RCX], 3000 - 1024);
	assert_int_equal(m.n, 1024);
	assert_int_equal(run_to_end(&ctx, &insn), 2);
	assert_int_equal(m.n, 3000);
}

/* A fault in the third iteration of REP MOVSD (at its write): two
 * iterations are done and show in the registers; RIP stays. */
static void test_fault_mid_rep(void **state)
{
	struct fake_mem m = { .fault_at = 5 };
	struct emu_ctx ctx, before;
	struct x86_insn insn;

	fake_ctx(&ctx, &m, X86_MODE_32, true);
	ctx.rflags &= ~X86_FLAGS_DF;
	ctx.gpr[X86_RCX] = 5;
	before = ctx;
	assert_int_equal(x86_decode((const u8 *)"\xf3\xa5", 2, X86_MODE_32, &insn), 0);
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_FAULT);
	assert_int_equal(m.n, 6);
	assert_int_equal(ctx.fault.vector, 14);
	assert_int_equal(ctx.gpr[X86_RCX], 3);
	assert_int_equal(ctx.gpr[X86_RSI], (u32)(before.gpr[X86_RSI] + 8));
	assert_int_equal(ctx.gpr[X86_RDI], (u32)(before.gpr[X86_RDI] + 8));
	assert_int_equal(ctx.rip, before.rip);
	assert_int_equal(ctx.rflags, before.rflags);
	/* Without REP, a fault on the read of LODS changes nothing. */
	m = (struct fake_mem){ .fault_at = 0 };
	before = ctx;
	assert_int_equal(x86_decode((const u8 *)"\xac", 1, X86_MODE_32, &insn), 0);
	assert_int_equal(x86_emulate(&ctx, &insn), EMU_FAULT);
	assert_true(ctx_equal(&ctx, &before));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_host),
		cmocka_unit_test(test_wrap16),
		cmocka_unit_test(test_adsize32_in64),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_rep_zero_and_repne),
		cmocka_unit_test(test_default_max_rep),
		cmocka_unit_test(test_fault_mid_rep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
