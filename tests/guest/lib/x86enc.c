/* See x86enc.h. */
#include "x86enc.h"

struct out {
	u8 b[32]; /* room past 15, so that overlong forms are caught at the end */
	unsigned int n;
};

static void put(struct out *o, u64 v, unsigned int size)
{
	for (unsigned int i = 0; i < size && o->n < sizeof(o->b); i++)
		o->b[o->n++] = (u8)(v >> (8 * i));
}

/* The ModRM, SIB and displacement of an operand, resolved. */
struct modrm {
	u8 mod, rm, sib, rex_xb;
	bool has_sib;
	u8 disp_size;
};

/* [BX+SI] [BX+DI] [BP+SI] [BP+DI] [SI] [DI] [BP] [BX] */
static int rm16(u8 base, u8 index)
{
	static const u8 bases[8] = { X86_RBX, X86_RBX, X86_RBP, X86_RBP,
				     X86ENC_NONE, X86ENC_NONE, X86_RBP, X86_RBX };
	static const u8 indexes[8] = { X86_RSI, X86_RDI, X86_RSI, X86_RDI,
				       X86_RSI, X86_RDI, X86ENC_NONE, X86ENC_NONE };

	for (int rm = 0; rm < 8; rm++)
		if (bases[rm] == base && indexes[rm] == index)
			return rm;
	return -1;
}

static bool resolve16(const struct x86_mem *m, struct modrm *r)
{
	int rm = rm16(m->base, m->index);

	r->disp_size = m->disp_size;
	if (m->base == X86ENC_NONE && m->index == X86ENC_NONE) {
		r->mod = 0;
		r->rm = 6; /* disp16 alone */
		return m->disp_size == 2;
	}
	if (rm < 0 || m->scale || m->disp_size == 4 || (rm == 6 && !m->disp_size))
		return false;
	r->rm = (u8)rm;
	r->mod = m->disp_size; /* 0, 1 (disp8) or 2 (disp16) */
	return true;
}

static bool resolve32(const struct x86_mem *m, enum x86_mode mode, struct modrm *r)
{
	u8 base = m->base, index = m->index;
	bool sib = m->sib || index != X86ENC_NONE || (base != X86ENC_NONE && (base & 7) == 4);

	if (m->disp_size == 2 || index == X86_RSP ||
	    (base == X86ENC_RIP && (index != X86ENC_NONE || mode != X86_MODE_64)))
		return false;
	if (base == X86ENC_RIP || (base == X86ENC_NONE && !sib && mode != X86_MODE_64)) {
		r->mod = 0;
		r->rm = 5;
		r->disp_size = 4;
		return true;
	}
	if (base == X86ENC_NONE) {
		r->mod = 0;
		r->disp_size = 4;
		base = 5; /* with mod 0: no base */
		sib = true;
	} else {
		if (!m->disp_size && (base & 7) == 5)
			return false; /* that is the no-base or RIP form */
		r->mod = m->disp_size == 4 ? 2 : m->disp_size;
		r->disp_size = m->disp_size;
	}
	r->has_sib = sib;
	r->rm = sib ? 4 : base & 7;
	if (sib)
		r->sib = (u8)(m->scale << 6 | (index == X86ENC_NONE ? 4 : index & 7) << 3 |
			      (base & 7));
	r->rex_xb = (u8)((index != X86ENC_NONE && (index & 8) ? 2 : 0) | (base & 8 ? 1 : 0));
	return true;
}

unsigned int x86_encode(const struct x86_spec *s, enum x86_mode mode, u64 next_rip,
			u8 out[X86_MAX_INSN_LEN])
{
	const struct x86_mem *m = s->mem;
	struct modrm r = { 0 };
	struct out o = { .n = 0 };
	unsigned int disp_at;
	u8 rex;

	if (m && !m->moffs && !(m->adsize == 2 ? resolve16(m, &r) : resolve32(m, mode, &r)))
		return 0;
	rex = (u8)((s->rex_w ? 8 : 0) | (m && !m->moffs ? (s->reg & 8) >> 1 : 0) | r.rex_xb);
	if (mode != X86_MODE_64 && (rex || s->rex))
		return 0;
	for (unsigned int i = 0; i < s->n_prefix; i++)
		put(&o, s->prefix[i], 1);
	if (rex || s->rex)
		put(&o, 0x40 | rex, 1);
	for (unsigned int i = 0; i < s->op_len; i++)
		put(&o, s->opcode[i], 1);
	if (m && !m->moffs) {
		put(&o, (u8)(r.mod << 6 | (s->reg & 7) << 3 | r.rm), 1);
		if (r.has_sib)
			put(&o, r.sib, 1);
	}
	disp_at = o.n;
	put(&o, m ? m->disp : 0, m ? (m->moffs ? m->adsize : r.disp_size) : 0);
	put(&o, s->imm, s->imm_size);
	if (o.n > X86_MAX_INSN_LEN)
		return 0;
	if (m && m->base == X86ENC_RIP) {
		u64 disp = m->disp - next_rip;

		if (m->adsize == 4)
			disp = (u32)disp;
		if (m->adsize == 8 && (s64)disp != (s32)disp)
			return 0;
		o.n = disp_at;
		put(&o, disp, 4);
		put(&o, s->imm, s->imm_size);
	}
	for (unsigned int i = 0; i < o.n; i++)
		out[i] = o.b[i];
	return o.n;
}

enum x86_seg x86_mem_default_seg(const struct x86_mem *m)
{
	if (m->moffs || m->base == X86ENC_NONE || m->base == X86ENC_RIP)
		return X86_DS;
	if (m->adsize == 2)
		return m->base == X86_RBP ? X86_SS : X86_DS;
	return m->base == X86_RSP || m->base == X86_RBP ? X86_SS : X86_DS;
}
