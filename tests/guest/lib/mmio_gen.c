/* Building one MMIO test case: random registers and bytes, then the
 * operands the form needs, placed in the window, then the encoding with
 * its prefixes in a random order. */
#include "mmio_gen.h"
#include "util.h"

struct gen {
	const struct mode *md;
	const struct form *f;
	const struct gen_opts *o;
	struct rnd *r;
	struct mcase *c;
	u32 size;      /* operand size */
	u8 adsize;
	int seg;       /* override, or X86_SEG_NONE */
	bool rex;      /* a REX prefix will be there (8-bit registers 4-7 are SPL-DIL) */
	struct x86_mem mem;
	struct x86_spec spec;
};

static u64 mask(u32 size)
{
	return size >= 8 ? ~0ull : BIT(8 * size) - 1;
}

u64 mmio_value(struct rnd *r, u32 size)
{
	u64 sign = BIT(8 * size - 1), v;

	switch (rnd(r, 9)) {
	case 0: v = 0; break;
	case 1: v = 1; break;
	case 2: v = ~0ull; break;
	case 3: v = sign; break;
	case 4: v = sign - 1; break;
	case 5: v = rnd(r, 16); break;
	default: v = rnd64(r); break;
	}
	return v & mask(size);
}

/* Puts v's size bytes at window offset wo into the hot ranges. */
static void put_mem(struct mcase *c, u32 wo, u64 v, u32 size)
{
	for (u32 i = 0; i < size; i++, wo++)
		for (u32 h = 0; h < HOT_RANGES; h++)
			if (wo - hot_start(h) < HOT_LEN)
				c->hot[h][wo - hot_start(h)] = (u8)(v >> (8 * i));
}

static bool on_page(u32 wo, u32 len)
{
	return len && wo < WIN_PAGE + 0x1000 && wo + len > WIN_PAGE;
}

/* Where a size-byte access goes: on the page near one of its edges, or
 * across an edge (opts.straddle). */
static u32 place(struct gen *g, u32 size)
{
	struct rnd *r = g->r;

	if (g->o->straddle && size > 1)
		return (rnd(r, 2) ? 0x1000 : 0x2000) - 1 - rnd(r, size - 1);
	switch (rnd(r, 4)) {
	case 0: return 0x1000 + rnd(r, 0x80);
	case 1: return 0x1000 + size * rnd(r, 0x80 / size);
	case 2: return 0x2000 - size - rnd(r, 0x80);
	default: return 0x2000 - size * (1 + rnd(r, 0x80 / size));
	}
}

static u8 pick_adsize(struct gen *g)
{
	if (g->o->adsize)
		return g->o->adsize;
	return rnd(g->r, 4) ? g->md->adsize : g->md->adsize67;
}

/* A segment override, or none; CS only where nothing is written through it. */
static int pick_seg(struct gen *g, bool writes)
{
	int s;

	if (g->o->seg != -1)
		return g->o->seg;
	if (rnd(g->r, 2))
		return X86_SEG_NONE;
	do
		s = (int)rnd(g->r, 6);
	while (s == X86_CS && writes);
	return s;
}

/* The ModRM memory operand, reaching window offset wo. */
static bool gen_mem(struct gen *g, u32 wo)
{
	for (int t = 0; t < 32; t++) {
		enum x86_seg seg;
		u64 ea;

		g->adsize = pick_adsize(g);
		g->seg = pick_seg(g, g->f->flags & F_WMEM);
		if (g->o->tmpl >= 0)
			mmio_addr_template(g->md, g->adsize, g->o->tmpl, &g->mem);
		else
			mmio_random_mem(g->md, g->adsize, g->r, &g->mem);
		seg = g->seg != X86_SEG_NONE ? (enum x86_seg)g->seg : x86_mem_default_seg(&g->mem);
		if (mmio_ea(g->md, g->adsize, seg, wo, g->r, &ea) &&
		    mmio_solve(g->md, &g->mem, ea, g->c->in.gpr, g->r))
			return true;
	}
	return false;
}

static bool mem_rex(const struct x86_mem *m)
{
	return (m->base < 16 && m->base >= 8) || (m->index < 16 && m->index >= 8);
}

static u8 phys_reg(struct gen *g, u8 reg, u32 size)
{
	return size == 1 && !g->rex && reg >= 4 && reg < 8 ? reg - 4 : reg;
}

/* ModRM.reg for a register operand: not one the address uses, not RSP
 * where it is written or is a bit offset. */
static u8 pick_reg(struct gen *g, u32 size, bool avoid_sp)
{
	bool is64 = g->md->x86 == X86_MODE_64;

	for (;;) {
		u8 reg = (u8)rnd(g->r, g->md->nregs), phys;

		g->rex = is64 && (reg >= 8 || mem_rex(&g->mem) || g->size == 8 ||
				  (size == 1 && rnd(g->r, 2)));
		phys = phys_reg(g, reg, size);
		if (phys == g->mem.base || phys == g->mem.index || (avoid_sp && phys == X86_RSP))
			continue;
		g->spec.rex = g->rex;
		return reg;
	}
}

static void set_reg(struct gen *g, u8 reg, u32 size, u64 v)
{
	u8 phys = phys_reg(g, reg, size);
	u32 shift = phys != reg ? 8 : 0;
	u64 *p = &g->c->in.gpr[phys];

	if (phys == X86_RSP)
		return; /* it stays the stack pointer */
	*p = (*p & ~(mask(size) << shift)) | ((v & mask(size)) << shift);
	if (g->md->x86 != X86_MODE_64)
		*p &= 0xffffffffu;
}

static u32 mem_size(const struct form *f, u32 size)
{
	return f->msize ? MIN(f->msize, size) : size;
}

/* ModRM forms. A bit test with a register offset reads the unit that
 * holds the bit, up to 24 units either side of the operand. */
static bool gen_modrm(struct gen *g)
{
	const struct form *f = g->f;
	u32 msize = mem_size(f, g->size), bits = 8 * g->size, unit;
	bool bt_reg = (f->flags & F_BT) && f->kind == K_MR;
	s32 k = bt_reg ? (s32)rnd(g->r, 49) - 24 : 0;

	unit = place(g, msize);
	if (!gen_mem(g, unit - (u32)k * g->size))
		return false;
	if (f->ext >= 0) {
		g->spec.reg = (u8)f->ext;
	} else {
		u32 rsize = f->kind == K_RM ? g->size : msize;

		g->spec.reg = pick_reg(g, rsize, (f->flags & F_WREG) || bt_reg);
		set_reg(g, g->spec.reg, rsize,
			bt_reg ? (u64)(s64)(k * (s32)bits) + rnd(g->r, bits) : mmio_value(g->r, rsize));
	}
	if (f->imm) {
		g->spec.imm_size = f->imm == IMM_Z ? (g->size == 2 ? 2 : 4) : 1;
		g->spec.imm = f->flags & F_BT ? rnd(g->r, 256) : mmio_value(g->r, g->spec.imm_size);
	}
	put_mem(g->c, unit, mmio_value(g->r, msize), msize);
	g->c->touches = on_page(unit, msize);
	return true;
}

static bool gen_moffs(struct gen *g)
{
	u32 wo = place(g, g->size);
	u64 ea;

	for (int t = 0; t < 32; t++) {
		g->adsize = pick_adsize(g);
		g->seg = pick_seg(g, g->f->flags & F_WMEM);
		if (!mmio_ea(g->md, g->adsize, g->seg == X86_SEG_NONE ? X86_DS : (enum x86_seg)g->seg,
			     wo, g->r, &ea))
			continue;
		g->mem = (struct x86_mem){ .adsize = g->adsize, .base = X86ENC_NONE,
					   .index = X86ENC_NONE, .moffs = true, .disp = ea };
		set_reg(g, X86_RAX, g->size, mmio_value(g->r, g->size));
		put_mem(g->c, wo, mmio_value(g->r, g->size), g->size);
		g->c->touches = true;
		return true;
	}
	return false;
}

/* REP counts: 0 at times, runs of up to 256 bytes, and at times one over
 * the whole page (more iterations than lamina does per exit). */
static u32 rep_count(struct gen *g)
{
	switch (rnd(g->r, 10)) {
	case 0:
		return 0;
	case 1:
		return (g->f->str == STR_MOVS ? 0x1000 : 0x1200) / g->size;
	default:
		return 1 + rnd(g->r, MIN(64u, 0x100 / g->size));
	}
}

/* A single element that is not on [x, x + size): in the RAM next to the
 * page or on the page, near an edge. */
static u32 elsewhere(struct gen *g, u32 x)
{
	static const u32 areas[4] = { 0xf00, 0x1000, 0x1f00, 0x2000 };
	u32 y;

	do
		y = areas[rnd(g->r, 4)] + rnd(g->r, 0x100 - g->size + 1);
	while (y + g->size > x && x + g->size > y);
	return y;
}

/* The lowest window offsets of the source and destination runs. */
static void string_layout(struct gen *g, u32 n, u32 *src, u32 *dst)
{
	u32 span = n * g->size, edge = rnd(g->r, 2) ? 0x1000 : 0x2000;
	bool movs = g->f->str == STR_MOVS;

	if (span > 0x100) { /* the whole page: MOVS between it and the RAM before */
		bool up = rnd(g->r, 2);

		*src = movs && up ? 0 : movs ? 0x1000 : 0xf00;
		*dst = movs && !up ? 0 : movs ? 0x1000 : 0xf00;
	} else if (!(g->f->flags & F_REP)) {
		*src = *dst = place(g, g->size);
		if (movs && rnd(g->r, 2))
			*src = elsewhere(g, *dst);
		else if (movs)
			*dst = elsewhere(g, *src);
	} else { /* runs across the page's edges, MOVS from one to the other */
		*dst = edge - rnd(g->r, span + 1);
		*src = (movs ? 0x3000 - edge : edge) - rnd(g->r, span + 1);
	}
}

static bool gen_string(struct gen *g)
{
	const struct form *f = g->f;
	bool rep = f->flags & F_REP, df = rnd(g->r, 2);
	u32 n = rep ? rep_count(g) : 1, top = n ? (n - 1) * g->size : 0, src, dst, t;
	u64 si = 0, di = 0, *gpr = g->c->in.gpr;

	string_layout(g, n, &src, &dst);
	if (df) { /* the first element is the highest */
		src += top;
		dst += top;
	}
	for (t = 0; t < 32; t++) {
		g->adsize = pick_adsize(g);
		g->seg = pick_seg(g, false); /* the source is read; STOS ignores it */
		if ((f->str == STR_STOS ||
		     mmio_ea(g->md, g->adsize, g->seg == X86_SEG_NONE ? X86_DS : (enum x86_seg)g->seg,
			     src, g->r, &si)) &&
		    (f->str == STR_LODS || mmio_ea(g->md, g->adsize, X86_ES, dst, g->r, &di)))
			break;
	}
	if (t == 32)
		return false;
	if (f->str != STR_STOS)
		gpr[X86_RSI] = mmio_garbage(g->md, g->adsize, si, g->r);
	if (f->str != STR_LODS)
		gpr[X86_RDI] = mmio_garbage(g->md, g->adsize, di, g->r);
	if (rep)
		gpr[X86_RCX] = mmio_garbage(g->md, g->adsize, n, g->r);
	g->c->in.rflags = (g->c->in.rflags & ~(u64)X86_FLAGS_DF) | (df ? X86_FLAGS_DF : 0);
	src -= df ? top : 0;
	dst -= df ? top : 0;
	g->c->touches = (f->str != STR_STOS && on_page(src, n * g->size)) ||
			(f->str != STR_LODS && on_page(dst, n * g->size));
	return true;
}

static void shuffle(struct rnd *r, u8 *p, u32 n)
{
	for (u32 i = n; i > 1; i--) {
		u32 j = rnd(r, i);
		u8 t = p[i - 1];

		p[i - 1] = p[j];
		p[j] = t;
	}
}

/* Prefixes (in a random order: the decoder must not care), then bytes. */
static bool finish(struct gen *g)
{
	static const u8 seg_prefix[6] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	struct x86_spec *s = &g->spec;
	const struct form *f = g->f;
	bool byte = f->flags & F_BYTE;

	s->n_prefix = 0;
	if (g->seg != X86_SEG_NONE)
		s->prefix[s->n_prefix++] = seg_prefix[g->seg];
	/* 66 where it selects the size; at times also where it must not
	 * count: on 8-bit forms, and beside REX.W */
	if ((!byte && g->size == (g->md->opsize == 2 ? 4u : 2u)) ||
	    ((byte || g->size == 8) && !rnd(g->r, 8)))
		s->prefix[s->n_prefix++] = 0x66;
	if (g->adsize != g->md->adsize)
		s->prefix[s->n_prefix++] = 0x67;
	if (g->o->lock)
		s->prefix[s->n_prefix++] = 0xf0;
	else if (f->flags & F_REP)
		s->prefix[s->n_prefix++] = rnd(g->r, 4) ? 0xf3 : 0xf2; /* F2 repeats these too */
	shuffle(g->r, s->prefix, s->n_prefix);
	s->rex_w = !byte && g->size == 8;
	/* A REX without bits changes nothing where no 8-bit register is named. */
	if (g->md->x86 == X86_MODE_64 && f->ext >= 0 && !rnd(g->r, 4))
		s->rex = true;
	memcpy(s->opcode, f->op, f->op_len);
	s->op_len = f->op_len;
	s->mem = f->kind == K_STR ? NULL : &g->mem;
	g->c->len = (u8)x86_encode(s, g->md->x86, snip_next_rip(g->md->snip), g->c->code);
	return g->c->len != 0;
}

/* Every flag but those the SDM leaves undefined after the instruction. */
static u64 flags_mask(const struct form *f)
{
	u64 all = BIT(22) - 1;

	if (f->flags & F_BT)
		return all & ~(u64)(X86_FLAGS_OF | X86_FLAGS_SF | X86_FLAGS_AF | X86_FLAGS_PF);
	if (f->flags & F_LOGIC)
		return all & ~(u64)X86_FLAGS_AF;
	return all;
}

static void init_case(struct gen *g)
{
	struct mcase *c = g->c;
	bool is64 = g->md->x86 == X86_MODE_64;

	memset(c, 0, sizeof(*c));
	for (u32 i = 0; i < g->md->nregs; i++)
		c->in.gpr[i] = is64 ? rnd64(g->r) : (u32)rnd64(g->r);
	c->in.gpr[X86_RSP] = g->md->sp;
	c->in.rflags = rnd64(g->r) & (X86_FLAGS_ARITH | X86_FLAGS_DF);
	for (u32 h = 0; h < HOT_RANGES; h++)
		for (u32 i = 0; i < HOT_LEN; i += 8) {
			u64 v = rnd64(g->r);

			memcpy(&c->hot[h][i], &v, 8);
		}
	c->flags_mask = flags_mask(g->f);
}

bool mmio_gen_case(const struct mode *md, const struct form *f, u32 size,
		   const struct gen_opts *o, struct rnd *r, struct mcase *c)
{
	for (int t = 0; t < 16; t++) {
		struct gen g = { .md = md, .f = f, .o = o, .r = r, .c = c, .size = size,
				 .seg = X86_SEG_NONE };
		bool ok;

		g.mem.base = g.mem.index = X86ENC_NONE;
		init_case(&g);
		if (f->kind == K_STR)
			ok = gen_string(&g);
		else if (f->kind == K_MOFFS)
			ok = gen_moffs(&g);
		else
			ok = gen_modrm(&g);
		if (ok && finish(&g))
			return true;
	}
	return false;
}
