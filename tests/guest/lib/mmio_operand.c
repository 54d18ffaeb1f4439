/* Memory operands for the MMIO test cases: addressing forms, the
 * effective address that reaches a window offset through a segment, and
 * register values and displacements that make a form produce it. */
#include "mmio_gen.h"

/* Segment bases differ from each other, so that the emulator's choice of
 * segment matters: in 16-bit code SS is not DS either (BP forms). The
 * mode's sp is filled in by the kernel (its stack) except in 16-bit code. */
struct mode mmio_modes[3] = {
	{ SNIP_16, X86_MODE_16, "mmio16", 2, 2, 4, 8,
	  { [X86_ES] = 0x1000, [X86_SS] = 0xfffff000u, [X86_FS] = 0x800, [X86_GS] = 0xfffff800u },
	  { 0x1000 }, 1, 0xff00 },
	{ SNIP_32, X86_MODE_32, "mmio32", 4, 4, 2, 8,
	  { [X86_ES] = WIN_LO - 0x8000, [X86_FS] = WIN_LO - 0x4000, [X86_GS] = 0xfffff000u },
	  { WIN_LO }, 1, 0 },
	{ SNIP_64, X86_MODE_64, "mmio64", 4, 8, 4, 16,
	  { [X86_FS] = WIN_HI - 0x10000, [X86_GS] = WIN_LO - 0x1000 },
	  { WIN_HI, WIN_LO }, 2, 0 },
};

static u64 mask(u32 size)
{
	return size >= 8 ? ~0ull : BIT(8 * size) - 1;
}

u64 mmio_garbage(const struct mode *md, u8 width, u64 v, struct rnd *r)
{
	u64 reg = mask(md->x86 == X86_MODE_64 ? 8 : 4);

	if (width >= 8)
		return v;
	return (v & mask(width)) | (rnd64(r) & ~mask(width) & reg);
}

/* 16-bit forms by ModRM.rm: [BX+SI] [BX+DI] [BP+SI] [BP+DI] [SI] [DI] [BP] [BX] */
static const u8 base16[8] = { X86_RBX, X86_RBX, X86_RBP, X86_RBP,
			      X86ENC_NONE, X86ENC_NONE, X86_RBP, X86_RBX };
static const u8 index16[8] = { X86_RSI, X86_RDI, X86_RSI, X86_RDI,
			       X86_RSI, X86_RDI, X86ENC_NONE, X86ENC_NONE };

static void form16(u32 mod, u32 rm, struct x86_mem *m)
{
	m->base = base16[rm];
	m->index = index16[rm];
	m->disp_size = (u8)mod;
	if (mod == 0 && rm == 6) {
		m->base = X86ENC_NONE; /* disp16 alone */
		m->disp_size = 2;
	}
}

/* ModRM mod/rm (rm 8-15: REX.B) without SIB; rm 4 and 12 take one. */
static void form32(const struct mode *md, u32 mod, u32 rm, struct x86_mem *m)
{
	m->base = (u8)rm;
	m->disp_size = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (mod == 0 && (rm & 7) == 5) {
		m->base = md->x86 == X86_MODE_64 ? X86ENC_RIP : X86ENC_NONE;
		m->disp_size = 4;
	}
}

static void sib32(u32 mod, u32 base, u32 index, u32 scale, struct x86_mem *m)
{
	m->sib = true;
	m->base = (u8)base;
	m->index = index == X86_RSP || index == base ? X86ENC_NONE : (u8)index;
	m->scale = (u8)scale;
	m->disp_size = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (mod == 0 && (base & 7) == 5) {
		m->base = X86ENC_NONE; /* index * scale + disp32 */
		m->disp_size = 4;
	}
}

/* The n-th addressing form of a systematic list: every mod/rm, then SIB
 * bytes naming each base, each index and each scale, the no-base forms.
 * Returns false past the end. */
bool mmio_addr_template(const struct mode *md, u8 adsize, int n, struct x86_mem *m)
{
	u32 nr = md->nregs, k = (u32)n;

	*m = (struct x86_mem){ .adsize = adsize, .base = X86ENC_NONE, .index = X86ENC_NONE };
	if (adsize == 2) {
		if (k >= 24)
			return false;
		form16(k / 8, k % 8, m);
		return true;
	}
	if (k < 3 * nr) { /* mod 0-2, rm (with REX.B in 64-bit code) */
		if (k % nr == X86_RSP) /* SIB; base RSP comes below */
			sib32(k / nr, X86_RBX, X86_RSI, k / nr, m);
		else
			form32(md, k / nr, k % nr, m);
		return true;
	}
	k -= 3 * nr;
	if (k < nr) { /* each base, through a SIB byte */
		sib32(k == X86_RSP ? 2 : 1 + k % 2, k, (k + 1) % nr, k % 4, m);
		return true;
	}
	k -= nr;
	if (k < nr) { /* each index; a base of RSP needs a disp32 */
		sib32((k + 3) % nr == X86_RSP ? 2 : 1, (k + 3) % nr, k, (k + 1) % 4, m);
		return true;
	}
	k -= nr;
	if (k < 4) { /* no base: index << scale + disp32 */
		sib32(0, 5, k % 2 ? X86_RDI : X86_RCX, k, m);
		return true;
	}
	if (k == 4) { /* no base, no index, through SIB */
		sib32(0, 5, X86_RSP, 0, m);
		return true;
	}
	return false;
}

void mmio_random_mem(const struct mode *md, u8 adsize, struct rnd *r, struct x86_mem *m)
{
	u32 nr = md->nregs, mod = rnd(r, 3);

	*m = (struct x86_mem){ .adsize = adsize, .base = X86ENC_NONE, .index = X86ENC_NONE };
	if (adsize == 2)
		form16(mod, rnd(r, 8), m);
	else if (rnd(r, 3) == 0)
		sib32(mod, rnd(r, nr), rnd(r, nr), rnd(r, 4), m);
	else
		form32(md, mod, rnd(r, nr), m);
}

/* The effective address that reaches window offset wo through seg, for
 * one of the mode's window addresses that the address size can reach. */
bool mmio_ea(const struct mode *md, u8 adsize, enum x86_seg seg, u32 wo, struct rnd *r,
	     u64 *ea)
{
	u32 first = rnd(r, md->n_win);

	if (seg == X86_CS && md->x86 == X86_MODE_16)
		return false; /* CS is the runner's own code segment */
	for (u32 i = 0; i < md->n_win; i++) {
		u64 e = md->win[(first + i) % md->n_win] + wo - md->seg_base[seg];

		if (md->x86 != X86_MODE_64)
			e &= 0xffffffffu; /* linear addresses wrap at 4 GiB */
		if (e <= mask(adsize)) {
			*ea = e;
			return true;
		}
	}
	return false;
}

/* Whether v fits a displacement of size (sign-extended) at adsize. */
static bool disp_fits(u64 v, u32 disp_size, u8 adsize)
{
	v &= mask(adsize);
	if (disp_size == 0)
		return v == 0;
	if (disp_size == 1)
		return ((v + 0x80) & mask(adsize)) < 0x100;
	return adsize < 8 || (s64)v == (s32)v;
}

static u64 random_disp(struct rnd *r, u32 disp_size)
{
	u64 v = rnd64(r);

	if (disp_size == 0)
		return 0;
	if (disp_size == 1)
		return (u64)(s64)(s8)v;
	if (disp_size == 2)
		return v & 0xffff;
	return rnd(r, 4) ? (u64)(s64)(s32)v : (u64)(s64)(s16)v;
}

/* Register values and displacement for m to address ea. Without a base,
 * the index takes what a random displacement leaves (a multiple of the
 * scale). Otherwise the index is small (negative at times) and the base
 * takes the rest, but for RSP: it stays the stack pointer, so the
 * displacement must. */
bool mmio_solve(const struct mode *md, struct x86_mem *m, u64 ea, u64 *gpr, struct rnd *r)
{
	u64 am = mask(m->adsize), low = BIT(m->scale) - 1, idx = 0, rest;

	if (m->moffs || m->base == X86ENC_RIP) {
		m->disp = ea;
		return true;
	}
	if (m->index != X86ENC_NONE && m->base == X86ENC_NONE) {
		m->disp = (random_disp(r, m->disp_size) & ~low) | (m->disp_size ? ea & low : 0);
		rest = (ea - m->disp) & am;
		gpr[m->index] = mmio_garbage(md, m->adsize, rest >> m->scale, r);
		return !(rest & low);
	}
	if (m->index != X86ENC_NONE) {
		idx = rnd(r, 4) ? rnd(r, 0x40) : (u64)-(s64)rnd(r, 0x40);
		gpr[m->index] = mmio_garbage(md, m->adsize, idx, r);
		idx <<= m->scale;
	}
	if (m->base == X86ENC_NONE || m->base == X86_RSP) {
		rest = ea - idx - (m->base == X86_RSP ? gpr[X86_RSP] : 0);
		m->disp = rest & am;
		return disp_fits(rest, m->disp_size, m->adsize);
	}
	m->disp = random_disp(r, m->disp_size);
	gpr[m->base] = mmio_garbage(md, m->adsize, (ea - idx - m->disp) & am, r);
	return true;
}
