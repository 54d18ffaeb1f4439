/* libFuzzer target for the x86 decoder and emulator. Input: one byte of
 * settings (mode, max_rep, which access faults), eight bytes that seed the
 * registers, then the instruction bytes. Checked on every input:
 *  - the decoder reads nothing past avail (the bytes sit at the end of an
 *    exact-size heap block: ASan), its length is 1-15 and fits avail, it
 *    decodes the same with avail cut to that length and is short one byte
 *    less; bytes it finds invalid or too long stay so with more after them;
 *  - where Zydis decodes the bytes, the length, immediate and displacement
 *    agree;
 *  - the emulator never crashes, accesses 1, 2, 4 or 8 bytes at a time, at
 *    most max_rep iterations, changes nothing when it does not execute the
 *    instruction or raises #UD for LOCK (only then, and with no access),
 *    no flag but the arithmetic ones, and moves RIP by the length exactly
 *    when it reports EMU_OK. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <x86/emulate.h>

#include "test_x86_ref.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

struct fuzz_mem {
	unsigned int accesses, fault_at;
};

static int fuzz_access(struct emu_ctx *ctx, u64 la, unsigned int size)
{
	struct fuzz_mem *m = ctx->opaque;

	CHECK(size == 1 || size == 2 || size == 4 || size == 8);
	if (m->accesses++ == m->fault_at) {
		ctx->fault = (struct emu_fault){ 14, true, 0, la };
		return -1;
	}
	return 0;
}

static int fuzz_read(struct emu_ctx *ctx, u64 la, void *data, unsigned int size,
		     bool for_write)
{
	u64 v = la * 0x9e3779b97f4a7c15ull;

	if (fuzz_access(ctx, la, size))
		return -1;
	memcpy(data, &v, size);
	return 0;
}

static int fuzz_write(struct emu_ctx *ctx, u64 la, const void *data,
		      unsigned int size)
{
	u64 v;

	memcpy(&v, data, size);
	return fuzz_access(ctx, la, size);
}

static const struct emu_ops fuzz_ops = { fuzz_read, fuzz_write };

/* Why the bytes did not decode does not change with more bytes after
 * them, unless they were short: decoded again from a 15-byte copy padded
 * with pad. */
static void check_error(const u8 *b, unsigned int n, enum x86_mode mode, int r, u8 pad)
{
	u8 more[X86_MAX_INSN_LEN];
	struct x86_insn again;

	memset(more, pad, sizeof(more));
	memcpy(more, b, MIN(n, sizeof(more)));
	CHECK(r != X86_DECODE_SHORT || n < X86_MAX_INSN_LEN);
	if (r == X86_DECODE_INVALID || r == X86_DECODE_TOO_LONG)
		CHECK(x86_decode(more, sizeof(more), mode, &again) == r);
}

static void check_decode(const u8 *b, unsigned int n, enum x86_mode mode,
			 const struct x86_insn *insn, int r)
{
	struct ref_insn ref;
	struct x86_insn again;
	char why[200];
	bool ok = r == 0;

	CHECK((x86_insn_length(b, n, mode) == 0) == !ok);
	CHECK(r == 0 || r == X86_DECODE_INVALID || r == X86_DECODE_SHORT ||
	      r == X86_DECODE_TOO_LONG);
	if (ok) {
		CHECK(insn->len >= 1 && insn->len <= X86_MAX_INSN_LEN && insn->len <= n);
		CHECK(x86_decode(b, insn->len, mode, &again) == 0);
		CHECK(again.len == insn->len && again.op == insn->op &&
		      again.imm == insn->imm && again.disp == insn->disp);
		CHECK(x86_decode(b, insn->len - 1u, mode, &again) == X86_DECODE_SHORT);
	} else {
		check_error(b, n, mode, r, 0x00);
		check_error(b, n, mode, r, 0xc4);
	}
	if (ref_decode(mode, b, n, false, &ref))
		CHECK(ok && ref_agrees(&ref, insn, REF_ENCODING, why));
}

static void check_emulate(const u8 *settings, const u8 *seed,
			  const struct x86_insn *insn, enum x86_mode mode)
{
	static const u64 ip_mask[3] = { 0xffff, 0xffffffff, ~0ull };
	struct fuzz_mem m = { 0, settings[0] >> 4 };
	struct emu_ctx ctx = { .ops = &fuzz_ops, .opaque = &m, .mode = mode };
	struct emu_ctx before;
	enum emu_result r;
	unsigned int i;

	for (i = 0; i < 16; i++)
		ctx.gpr[i] = (u64)seed[i % 8] << (8 * (i % 8)) | seed[(i + 3) % 8];
	ctx.rip = ((u64)seed[1] << 40 | seed[2]) & ip_mask[mode];
	ctx.rflags = 0x202 | (seed[3] & 1 ? X86_FLAGS_DF : 0) | (seed[4] & X86_FLAGS_ARITH);
	ctx.max_rep = 1 + (settings[0] >> 2 & 3);
	before = ctx;
	x86_operand_address(&ctx, insn);
	r = x86_emulate(&ctx, insn);
	CHECK(r <= EMU_FAULT);
	CHECK(m.accesses <= 2 * ctx.max_rep + 2);
	CHECK((ctx.rflags & ~(u64)X86_FLAGS_ARITH) == (before.rflags & ~(u64)X86_FLAGS_ARITH));
	if (r == EMU_OK)
		CHECK(ctx.rip == ((before.rip + insn->len) & ip_mask[mode]));
	else
		CHECK(ctx.rip == before.rip);
	/* Not executed (or LOCK's #UD, before any access): nothing done. */
	if (r == EMU_UNSUPPORTED || (r == EMU_FAULT && ctx.fault.vector == 6))
		CHECK(m.accesses == 0 && !memcmp(ctx.gpr, before.gpr, sizeof(ctx.gpr)) &&
		      ctx.rflags == before.rflags);
	if (r == EMU_FAULT && ctx.fault.vector == 6)
		CHECK(insn->prefixes & X86_PFX_LOCK);
	else if (r == EMU_FAULT)
		CHECK(m.accesses == m.fault_at + 1 && ctx.fault.vector == 14);
	if (r == EMU_CONTINUE)
		CHECK(insn->prefixes & (X86_PFX_REP | X86_PFX_REPNE));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum x86_mode mode;
	struct x86_insn insn;
	unsigned int n;
	u8 *b;
	int r;

	if (size < 9)
		return 0;
	mode = (enum x86_mode)(data[0] % 4 == 3 ? 2 : data[0] % 4);
	n = (unsigned int)MIN(size - 9, 32u);
	b = malloc(n ? n : 1);
	memcpy(b, data + 9, n);
	r = x86_decode(b, n, mode, &insn);
	check_decode(b, n, mode, &insn, r);
	if (r == 0)
		check_emulate(data, data + 1, &insn, mode);
	free(b);
	return 0;
}
