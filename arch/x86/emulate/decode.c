/* x86 instruction decoder: prefixes, opcode, ModRM/SIB, displacement and
 * immediate, in 16-, 32- and 64-bit code (SDM vol. 2, chapter 2). It finds
 * the length of any instruction; the emulated ones also get an operation. */
#include "opcodes.h"

/* The bytes being decoded: never read at or past limit = min(avail, 15).
 * ran_out: a byte at or past limit was wanted. */
struct cursor {
	const u8 *bytes;
	unsigned int pos, limit;
	bool ran_out;
};

static bool fetch(struct cursor *c, u8 *b)
{
	if (c->pos >= c->limit)
		return !(c->ran_out = true);
	*b = c->bytes[c->pos++];
	return true;
}

static bool peek(struct cursor *c, u8 *b)
{
	if (c->pos >= c->limit)
		return !(c->ran_out = true);
	*b = c->bytes[c->pos];
	return true;
}

/* n little-endian bytes, zero-extended. */
static bool fetch_le(struct cursor *c, unsigned int n, u64 *v)
{
	unsigned int i;

	if (n > c->limit - c->pos)
		return !(c->ran_out = true);
	*v = 0;
	for (i = 0; i < n; i++)
		*v |= (u64)c->bytes[c->pos + i] << (8 * i);
	c->pos += n;
	return true;
}

static s64 sign_extend(u64 v, unsigned int bytes)
{
	unsigned int shift = 64 - 8 * bytes;

	return (s64)(v << shift) >> shift;
}

/* A segment prefix: the last one counts, except that in 64-bit mode ES,
 * CS, SS and DS prefixes are no-ops and leave an FS or GS override in
 * force (AMD APM Vol. 3 1.2.4). */
static void seg_prefix_seen(enum x86_seg s, enum x86_mode mode, struct x86_insn *insn)
{
	bool fs_gs = insn->seg_override == X86_FS || insn->seg_override == X86_GS;

	if (mode != X86_MODE_64 || s == X86_FS || s == X86_GS || !fs_gs)
		insn->seg_override = s;
}

/* One legacy prefix into insn; false when b is not one. A legacy prefix
 * after REX makes the REX void: REX counts only right before the opcode. */
static bool legacy_prefix(u8 b, enum x86_mode mode, struct x86_insn *insn, u8 *last_rep)
{
	static const u8 seg_prefix[6] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	unsigned int s;

	switch (b) {
	case 0xf0: insn->prefixes |= X86_PFX_LOCK; break;
	case 0xf2: insn->prefixes |= X86_PFX_REPNE; *last_rep = b; break;
	case 0xf3: insn->prefixes |= X86_PFX_REP; *last_rep = b; break;
	case 0x66: insn->prefixes |= X86_PFX_OPSIZE; break;
	case 0x67: insn->prefixes |= X86_PFX_ADSIZE; break;
	default:
		for (s = 0; s < ARRAY_SIZE(seg_prefix) && seg_prefix[s] != b; s++)
			;
		if (s == ARRAY_SIZE(seg_prefix))
			return false;
		seg_prefix_seen((enum x86_seg)s, mode, insn);
	}
	insn->rex = 0;
	return true;
}

static bool prefixes(struct cursor *c, enum x86_mode mode,
		     struct x86_insn *insn, u8 *last_rep)
{
	u8 b;

	for (;;) {
		if (!peek(c, &b))
			return false;
		if (mode == X86_MODE_64 && (b & 0xf0) == 0x40)
			insn->rex = b; /* a later REX replaces an earlier one */
		else if (!legacy_prefix(b, mode, insn, last_rep))
			return true;
		c->pos++;
	}
}

/* Operand and address size from the mode and the 66, 67 and REX.W
 * prefixes. Near branches in 64-bit mode are 64-bit whatever 66 says (as on
 * Intel CPUs; AMD honours 66 there, but lamina never needs the length of a
 * branch). */
static void sizes(enum x86_mode mode, u16 attr, struct x86_insn *insn)
{
	bool p66 = insn->prefixes & X86_PFX_OPSIZE;
	bool p67 = insn->prefixes & X86_PFX_ADSIZE;

	if (mode == X86_MODE_16) {
		insn->opsize = p66 ? 4 : 2;
		insn->adsize = p67 ? 4 : 2;
		return;
	}
	insn->opsize = p66 ? 2 : 4;
	if (mode == X86_MODE_32) {
		insn->adsize = p67 ? 2 : 4;
		return;
	}
	insn->adsize = p67 ? 4 : 8;
	if ((insn->rex & 0x08) || (attr & A_REL64))
		insn->opsize = 8;
}

/* ModRM, then SIB and displacement for a memory operand. */
static bool modrm(struct cursor *c, u16 attr, struct x86_insn *insn)
{
	unsigned int mod, rm, disp = 0;
	u64 v;

	if (!fetch(c, &insn->modrm))
		return false;
	insn->has_modrm = true;
	mod = modrm_mod(insn->modrm);
	rm = modrm_rm(insn->modrm);
	if (mod == 3 || (attr & A_MODREG))
		return true;
	insn->mem_operand = true;
	if (insn->adsize == 2) {
		/* [BX+SI] ... [BX]; rm 6 with mod 0 is a bare disp16. */
		disp = mod == 1 ? 1 : (mod == 2 || rm == 6) ? 2 : 0;
	} else {
		if (rm == 4 && !fetch(c, &insn->sib))
			return false;
		/* mod 0 with rm 5, or SIB base 5: disp32 and no base. */
		if (mod == 0 && (rm == 5 || (rm == 4 && (insn->sib & 7) == 5)))
			disp = 4;
		else
			disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	}
	if (!fetch_le(c, disp, &v))
		return false;
	insn->disp = disp ? sign_extend(v, disp) : 0;
	return true;
}

/* Groups where some ModRM.reg values are undefined: the valid ones, as a
 * bit mask of reg, for a memory operand and for a register operand. */
struct group_regs {
	u8 map, opcode, mem, reg;
};

static const struct group_regs group_regs[] = {
	{ 0, 0x8f, 0x01, 0x01 }, /* POP r/m; the other /r are XOP */
	{ 0, 0xc6, 0x01, 0x01 }, /* MOV r/m, imm (and C6 F8 XABORT) */
	{ 0, 0xc7, 0x01, 0x01 }, /* MOV r/m, imm (and C7 F8 XBEGIN) */
	{ 0, 0xfe, 0x03, 0x03 }, /* INC, DEC */
	{ 0, 0xff, 0x7f, 0x57 }, /* far CALL/JMP (/3 /5) need memory */
	{ 1, 0xba, 0xf0, 0xf0 }, /* BT BTS BTR BTC */
};

static bool group_valid(const struct x86_insn *insn)
{
	unsigned int i, reg = modrm_reg(insn->modrm);
	const struct group_regs *g;

	if (insn->opcode_map == 0 && (insn->opcode & 0xfe) == 0xc6 &&
	    insn->modrm == 0xf8)
		return true; /* XABORT, XBEGIN */
	for (i = 0; i < ARRAY_SIZE(group_regs); i++) {
		g = &group_regs[i];
		if (g->map == insn->opcode_map && g->opcode == insn->opcode)
			return (modrm_mod(insn->modrm) == 3 ? g->reg : g->mem) &
			       (1u << reg);
	}
	return true;
}

/* The immediate of an IMM_GROUP opcode, or -1 when the encoding is
 * undefined. last_rep is the last F2/F3 prefix: as a mandatory prefix it
 * takes precedence over 66. */
static int group_imm(const struct x86_insn *insn, u8 last_rep)
{
	bool test = modrm_reg(insn->modrm) < 2;

	switch (insn->opcode_map << 8 | insn->opcode) {
	case 0xf6: return test ? IMM_B : IMM_NONE; /* TEST /0 /1 */
	case 0xf7: return test ? IMM_Z : IMM_NONE;
	case 0xc6: return IMM_B;
	case 0xc7: return IMM_Z;
	case 0x178: /* VMREAD; 66: EXTRQ ib, ib; F2: INSERTQ ib, ib */
		if (last_rep == 0xf3)
			return -1;
		if (last_rep == 0xf2 || (insn->prefixes & X86_PFX_OPSIZE))
			return IMM_BB;
		return IMM_NONE;
	case 0x1b8: /* POPCNT with F3; JMPE (IA-64 only) without */
		return last_rep == 0xf3 ? IMM_NONE : -1;
	}
	return -1;
}

static unsigned int imm_bytes(enum imm_kind kind, const struct x86_insn *insn)
{
	unsigned int z = insn->opsize == 2 ? 2 : 4;

	switch (kind) {
	case IMM_B: return 1;
	case IMM_W: return 2;
	case IMM_Z: return z;
	case IMM_V: return insn->opsize;
	case IMM_MOFFS: return insn->adsize;
	case IMM_FAR: return z + 2;
	case IMM_ENTER: return 3;
	case IMM_BB: return 2;
	default: return 0;
	}
}

static bool immediate(struct cursor *c, int kind, struct x86_insn *insn)
{
	insn->imm_size = imm_bytes((enum imm_kind)kind, insn);
	return fetch_le(c, insn->imm_size, &insn->imm);
}

/* Outside 64-bit mode C4, C5 and 62 are LES, LDS and BOUND, whose operand
 * must be in memory: VEX and EVEX live where ModRM.mod would be 3. 8F is
 * XOP when it cannot be POP r/m, i.e. its map field is 8 or more. */
static bool vex_escape(struct cursor *c, enum x86_mode mode, u8 b)
{
	u8 next;

	if ((b != 0xc4 && b != 0xc5 && b != 0x62 && b != 0x8f) || !peek(c, &next))
		return false;
	if (b == 0x8f)
		return (next & 0x1f) >= 8;
	return mode == X86_MODE_64 || next >= 0xc0;
}

/* The maps each escape can select, as a bit mask of the map number. */
static bool vex_map_valid(u8 esc, unsigned int map)
{
	u32 maps = esc == 0x8f ? 0x700 : esc == 0x62 ? 0x6e : 0x0e;

	return maps & (1u << map);
}

/* Immediate bytes of a VEX/EVEX/XOP instruction: the 0F 3A map and a few
 * 0F opcodes (PSHUF*, the shift groups 12-14, CMPPS, PINSRW, PEXTRW,
 * SHUFPS) take an imm8; XOP map 8 an imm8, XOP map 10 an imm32. */
static unsigned int vex_imm(u8 esc, unsigned int map, u8 op)
{
	if (esc == 0x8f)
		return map == 8 ? 1 : map == 10 ? 4 : 0;
	if (map == 3)
		return 1;
	if (map == 1)
		return (op >= 0x70 && op <= 0x73) || op == 0xc2 ||
		       (op >= 0xc4 && op <= 0xc6);
	return 0;
}

/* The rest of a VEX (C4, C5), EVEX (62) or XOP (8F) instruction: the prefix
 * payload, the opcode, ModRM (all but VZEROUPPER/VZEROALL) and immediate.
 * These prefixes encode 66/F2/F3/REX themselves: combined with the legacy
 * ones, or with LOCK, they are #UD. */
static bool vex(struct cursor *c, enum x86_mode mode, u8 esc,
		struct x86_insn *insn)
{
	unsigned int i, n = esc == 0xc5 ? 1 : esc == 0x62 ? 3 : 2;
	u8 p[3];

	if ((insn->prefixes & ~X86_PFX_ADSIZE) || insn->rex)
		return false;
	for (i = 0; i < n; i++)
		if (!fetch(c, &p[i]))
			return false;
	insn->vex = esc;
	insn->opcode_map = esc == 0xc5 ? 1 : p[0] & (esc == 0x62 ? 0x07 : 0x1f);
	if (!vex_map_valid(esc, insn->opcode_map))
		return false;
	/* EVEX: P0 bit 3 reserved 0, P1 bit 2 fixed 1. */
	if (esc == 0x62 && ((p[0] & 0x08) || !(p[1] & 0x04)))
		return false;
	if (!fetch(c, &insn->opcode))
		return false;
	sizes(mode, 0, insn);
	if ((esc == 0x62 || insn->opcode_map != 1 || insn->opcode != 0x77) &&
	    !modrm(c, A_MODRM, insn))
		return false;
	insn->imm_size = vex_imm(esc, insn->opcode_map, insn->opcode);
	return fetch_le(c, insn->imm_size, &insn->imm);
}

/* The opcode after the prefixes: 0F and 0F 38 / 0F 3A select the maps. */
static bool opcode(struct cursor *c, u8 b, struct x86_insn *insn)
{
	if (b == 0x0f) {
		insn->opcode_map = 1;
		if (!fetch(c, &b))
			return false;
		if (b == 0x38 || b == 0x3a) {
			insn->opcode_map = b == 0x38 ? 2 : 3;
			if (!fetch(c, &b))
				return false;
		}
	}
	insn->opcode = b;
	return true;
}

static u16 attributes(const struct x86_insn *insn)
{
	switch (insn->opcode_map) {
	case 0: return x86_onebyte_attr[insn->opcode];
	case 1: return x86_0f_attr[insn->opcode];
	case 2: return A_MODRM;
	default: return A_MODRM | IMM_B;
	}
}

/* Name the operation of an instruction the emulator executes. */
static void assign_op(enum x86_mode mode, struct x86_insn *insn)
{
	const struct op_def *d = x86_op_def(insn->opcode_map, insn->opcode);
	u8 op;

	if (!d || ((d->flags & OPF_64) && mode != X86_MODE_64))
		return;
	if (d->flags & OPF_BYTE)
		insn->opsize = 1; /* of every member of a group too */
	op = d->group ? d->group[modrm_reg(insn->modrm)] : d->op;
	insn->op = (enum x86_op)op;
}

/* Everything after the opcode of a legacy-encoded instruction. */
static bool operands(struct cursor *c, enum x86_mode mode, u8 last_rep,
		     struct x86_insn *insn)
{
	u16 attr = attributes(insn);
	int kind = attr & A_IMM_MASK;

	if ((attr & A_BAD) || (mode == X86_MODE_64 && (attr & A_NO64)))
		return false;
	sizes(mode, attr, insn);
	if ((attr & A_MODRM) && !modrm(c, attr, insn))
		return false;
	if ((attr & A_MODRM) && !group_valid(insn))
		return false;
	if (kind == IMM_GROUP)
		kind = group_imm(insn, last_rep);
	if (kind < 0 || !immediate(c, kind, insn))
		return false;
	if ((attr & A_STRING) || kind == IMM_MOFFS)
		insn->mem_operand = true;
	assign_op(mode, insn);
	return true;
}

/* Why decoding failed. A decode that ran out of bytes failed for want
 * of them: no check before that point found the bytes invalid, and any
 * after it saw a guess (C4, C5, 62 read as LES, LDS, BOUND in 64-bit
 * mode when the byte that would make them VEX/EVEX was missing). */
static int decode_error(const struct cursor *c)
{
	if (!c->ran_out)
		return X86_DECODE_INVALID;
	return c->limit < X86_MAX_INSN_LEN ? X86_DECODE_SHORT : X86_DECODE_TOO_LONG;
}

int x86_decode(const u8 *bytes, unsigned int avail, enum x86_mode mode,
	       struct x86_insn *insn)
{
	struct cursor c = { bytes, 0, MIN(avail, X86_MAX_INSN_LEN), false };
	u8 b = 0, last_rep = 0;
	bool ok;

	*insn = (struct x86_insn){ .seg_override = X86_SEG_NONE };
	if (!prefixes(&c, mode, insn, &last_rep) || !fetch(&c, &b))
		return decode_error(&c);
	if (vex_escape(&c, mode, b))
		ok = vex(&c, mode, b, insn);
	else
		ok = opcode(&c, b, insn) && operands(&c, mode, last_rep, insn);
	if (!ok)
		return decode_error(&c);
	insn->len = (u8)c.pos;
	return 0;
}

unsigned int x86_insn_length(const u8 *bytes, unsigned int avail,
			     enum x86_mode mode)
{
	struct x86_insn insn;

	return x86_decode(bytes, avail, mode, &insn) == 0 ? insn.len : 0;
}
