/* Fake guest memory and state for the emulator tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "test_x86_fake.h"

static u64 rnd_state = 0x2545f4914f6cdd1dull;

u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

u8 fake_byte(const struct fake_mem *m, u64 la)
{
	if (m->window && la - m->window_base < m->window_size)
		return m->window[la - m->window_base];
	return (u8)((la * 0x9e3779b97f4a7c15ull) >> 56);
}

u64 fake_value(const struct fake_mem *m, u64 la, unsigned int size)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (u64)fake_byte(m, la + i) << (8 * i);
	return v;
}

/* Log the access; false (and a #PF for la) when it is the one to fault. */
static bool account(struct emu_ctx *ctx, bool write, bool for_write, u64 la,
		    unsigned int size, u64 val)
{
	struct fake_mem *m = ctx->opaque;

	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	if ((int)m->n == m->fault_at) {
		m->n++;
		ctx->fault = (struct emu_fault){ 14, true, write || for_write ? 2u : 0u, la };
		return false;
	}
	if (m->n < FAKE_LOG)
		m->log[m->n] = (struct access){ write, la, size, val, for_write };
	m->n++;
	return true;
}

static int fake_read(struct emu_ctx *ctx, u64 la, void *data, unsigned int size,
		     bool for_write)
{
	u64 v = fake_value(ctx->opaque, la, size);

	if (!account(ctx, false, for_write, la, size, v))
		return -1;
	memcpy(data, &v, size);
	return 0;
}

static int fake_write(struct emu_ctx *ctx, u64 la, const void *data,
		      unsigned int size)
{
	struct fake_mem *m = ctx->opaque;
	u64 v = 0;
	unsigned int i;

	memcpy(&v, data, size);
	if (!account(ctx, true, false, la, size, v))
		return -1;
	for (i = 0; i < size && m->window; i++)
		if (la + i - m->window_base < m->window_size)
			m->window[la + i - m->window_base] = (u8)(v >> (8 * i));
	return 0;
}

const struct emu_ops fake_ops = { fake_read, fake_write };

void fake_ctx(struct emu_ctx *ctx, struct fake_mem *m, enum x86_mode mode,
	      bool random)
{
	static const u64 ip_mask[3] = { 0xffff, 0xffffffff, ~0ull };
	unsigned int i;

	memset(ctx, 0, sizeof(*ctx));
	ctx->ops = &fake_ops;
	ctx->opaque = m;
	ctx->mode = mode;
	ctx->rflags = 0x2;
	if (!random)
		return;
	for (i = 0; i < 16; i++)
		ctx->gpr[i] = rnd();
	ctx->rip = rnd() & ip_mask[mode];
	ctx->rflags = 0x202 | (rnd() & X86_FLAGS_ARITH);
	for (i = 0; i < 6; i++)
		ctx->seg_base[i] = mode == X86_MODE_16 ? (rnd() & 0xffff) << 4
			       : mode == X86_MODE_32 ? rnd() & 0xffffffff : rnd();
}

bool ctx_equal(const struct emu_ctx *got, const struct emu_ctx *want)
{
	return ctx_diff(got, want, true);
}

bool ctx_diff(const struct emu_ctx *got, const struct emu_ctx *want, bool print)
{
	unsigned int i;
	bool same = true;

	for (i = 0; i < 16; i++)
		if (got->gpr[i] != want->gpr[i]) {
			if (print)
				print_message("gpr[%u] %#llx, want %#llx\n", i,
				      (unsigned long long)got->gpr[i],
				      (unsigned long long)want->gpr[i]);
			same = false;
		}
	if (got->rflags != want->rflags || got->rip != want->rip) {
		if (print)
			print_message("rflags %#llx rip %#llx, want %#llx %#llx\n",
			      (unsigned long long)got->rflags,
			      (unsigned long long)got->rip,
			      (unsigned long long)want->rflags,
			      (unsigned long long)want->rip);
		same = false;
	}
	return same;
}
