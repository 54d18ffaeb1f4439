/* The instruction forms lamina's emulator executes (include/x86/
 * emulate.h), as the MMIO test kernel runs them: one group of cases per
 * form and operand size. */
#include "mmio_gen.h"
#include "print.h"
#include "util.h"

/* name, opcode, opcode length, extension, kind, flags, immediate,
 * memory size, string op */
static const struct form plain_forms[] = {
	{ "mov r/m8, r8", { 0x88 }, 1, -1, K_MR, F_BYTE | F_WMEM, 0, 0, 0 },
	{ "mov r/m#, r#", { 0x89 }, 1, -1, K_MR, F_WMEM, 0, 0, 0 },
	{ "mov r8, r/m8", { 0x8a }, 1, -1, K_RM, F_BYTE | F_WREG, 0, 0, 0 },
	{ "mov r#, r/m#", { 0x8b }, 1, -1, K_RM, F_WREG, 0, 0, 0 },
	{ "mov r/m8, imm8", { 0xc6 }, 1, 0, K_MI, F_BYTE | F_WMEM, 1, 0, 0 },
	{ "mov r/m#, imm%", { 0xc7 }, 1, 0, K_MI, F_WMEM, IMM_Z, 0, 0 },
	{ "mov al, moffs8", { 0xa0 }, 1, -1, K_MOFFS, F_BYTE | F_WREG, 0, 0, 0 },
	{ "mov @, moffs#", { 0xa1 }, 1, -1, K_MOFFS, F_WREG, 0, 0, 0 },
	{ "mov moffs8, al", { 0xa2 }, 1, -1, K_MOFFS, F_BYTE | F_WMEM, 0, 0, 0 },
	{ "mov moffs#, @", { 0xa3 }, 1, -1, K_MOFFS, F_WMEM, 0, 0, 0 },
	{ "movzx r#, r/m8", { 0x0f, 0xb6 }, 2, -1, K_RM, F_WREG, 0, 1, 0 },
	{ "movzx r#, r/m16", { 0x0f, 0xb7 }, 2, -1, K_RM, F_WREG, 0, 2, 0 },
	{ "movsx r#, r/m8", { 0x0f, 0xbe }, 2, -1, K_RM, F_WREG, 0, 1, 0 },
	{ "movsx r#, r/m16", { 0x0f, 0xbf }, 2, -1, K_RM, F_WREG, 0, 2, 0 },
	/* MOVSXD reads 4 bytes, or 2 with a 16-bit operand */
	{ "movsxd r#, r/m32", { 0x63 }, 1, -1, K_RM, F_WREG | F_ONLY64, 0, 4, 0 },
	{ "test r/m8, r8", { 0x84 }, 1, -1, K_MR, F_BYTE | F_LOGIC, 0, 0, 0 },
	{ "test r/m#, r#", { 0x85 }, 1, -1, K_MR, F_LOGIC, 0, 0, 0 },
	{ "test r/m8, imm8", { 0xf6 }, 1, 0, K_MI, F_BYTE | F_LOGIC, 1, 0, 0 },
	{ "test r/m#, imm%", { 0xf7 }, 1, 0, K_MI, F_LOGIC, IMM_Z, 0, 0 },
	/* /1: an alias of /0 that Intel and AMD CPUs and the emulator accept */
	{ "test r/m8, imm8 (f6 /1)", { 0xf6 }, 1, 1, K_MI, F_BYTE | F_LOGIC | F_UNDOC, 1, 0, 0 },
	{ "test r/m#, imm% (f7 /1)", { 0xf7 }, 1, 1, K_MI, F_LOGIC | F_UNDOC, IMM_Z, 0, 0 },
	{ "xchg r/m8, r8", { 0x86 }, 1, -1, K_MR, F_BYTE | F_WMEM | F_WREG | F_LOCK, 0, 0, 0 },
	{ "xchg r/m#, r#", { 0x87 }, 1, -1, K_MR, F_WMEM | F_WREG | F_LOCK, 0, 0, 0 },
	{ "bt r/m#, r#", { 0x0f, 0xa3 }, 2, -1, K_MR, F_BT, 0, 0, 0 },
	{ "bts r/m#, r#", { 0x0f, 0xab }, 2, -1, K_MR, F_BT | F_WMEM | F_LOCK, 0, 0, 0 },
	{ "btr r/m#, r#", { 0x0f, 0xb3 }, 2, -1, K_MR, F_BT | F_WMEM | F_LOCK, 0, 0, 0 },
	{ "btc r/m#, r#", { 0x0f, 0xbb }, 2, -1, K_MR, F_BT | F_WMEM | F_LOCK, 0, 0, 0 },
	{ "bt r/m#, imm8", { 0x0f, 0xba }, 2, 4, K_MI, F_BT, 1, 0, 0 },
	{ "bts r/m#, imm8", { 0x0f, 0xba }, 2, 5, K_MI, F_BT | F_WMEM | F_LOCK, 1, 0, 0 },
	{ "btr r/m#, imm8", { 0x0f, 0xba }, 2, 6, K_MI, F_BT | F_WMEM | F_LOCK, 1, 0, 0 },
	{ "btc r/m#, imm8", { 0x0f, 0xba }, 2, 7, K_MI, F_BT | F_WMEM | F_LOCK, 1, 0, 0 },
	{ "movsb", { 0xa4 }, 1, -1, K_STR, F_BYTE | F_WMEM, 0, 0, STR_MOVS },
	{ "movs$", { 0xa5 }, 1, -1, K_STR, F_WMEM, 0, 0, STR_MOVS },
	{ "rep movsb", { 0xa4 }, 1, -1, K_STR, F_BYTE | F_WMEM | F_REP, 0, 0, STR_MOVS },
	{ "rep movs$", { 0xa5 }, 1, -1, K_STR, F_WMEM | F_REP, 0, 0, STR_MOVS },
	{ "stosb", { 0xaa }, 1, -1, K_STR, F_BYTE | F_WMEM, 0, 0, STR_STOS },
	{ "stos$", { 0xab }, 1, -1, K_STR, F_WMEM, 0, 0, STR_STOS },
	{ "rep stosb", { 0xaa }, 1, -1, K_STR, F_BYTE | F_WMEM | F_REP, 0, 0, STR_STOS },
	{ "rep stos$", { 0xab }, 1, -1, K_STR, F_WMEM | F_REP, 0, 0, STR_STOS },
	{ "lodsb", { 0xac }, 1, -1, K_STR, F_BYTE | F_WREG, 0, 0, STR_LODS },
	{ "lods$", { 0xad }, 1, -1, K_STR, F_WREG, 0, 0, STR_LODS },
	{ "rep lodsb", { 0xac }, 1, -1, K_STR, F_BYTE | F_WREG | F_REP, 0, 0, STR_LODS },
	{ "rep lods$", { 0xad }, 1, -1, K_STR, F_WREG | F_REP, 0, 0, STR_LODS },
};

/* The eight ALU operations share these shapes: 00-3B (opcode + 8 * op)
 * and the group-1 immediates 80-83 (ModRM.reg = op). */
static const char *const alu_names[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };
static const struct form alu_shapes[] = {
	{ "r/m8, r8", { 0x00 }, 1, -1, K_MR, F_BYTE | F_WMEM, 0, 0, 0 },
	{ "r/m#, r#", { 0x01 }, 1, -1, K_MR, F_WMEM, 0, 0, 0 },
	{ "r8, r/m8", { 0x02 }, 1, -1, K_RM, F_BYTE | F_WREG, 0, 0, 0 },
	{ "r#, r/m#", { 0x03 }, 1, -1, K_RM, F_WREG, 0, 0, 0 },
	{ "r/m8, imm8", { 0x80 }, 1, 0, K_MI, F_BYTE | F_WMEM, 1, 0, 0 },
	{ "r/m#, imm%", { 0x81 }, 1, 0, K_MI, F_WMEM, IMM_Z, 0, 0 },
	{ "r/m#, imm8", { 0x83 }, 1, 0, K_MI, F_WMEM, 1, 0, 0 },
	/* 82: an alias of 80, invalid in 64-bit code */
	{ "r/m8, imm8 (82)", { 0x82 }, 1, 0, K_MI, F_BYTE | F_WMEM | F_NO64, 1, 0, 0 },
};

#define N_PLAIN ARRAY_SIZE(plain_forms)
#define N_ALU (8 * ARRAY_SIZE(alu_shapes))

static struct form alu_forms[N_ALU];

static void make_alu(u32 i)
{
	u32 op = i / ARRAY_SIZE(alu_shapes);
	const struct form *s = &alu_shapes[i % ARRAY_SIZE(alu_shapes)];
	struct form *f = &alu_forms[i];

	*f = *s;
	format(f->name, sizeof(f->name), "%s %s", alu_names[op], s->name);
	if (s->ext < 0)
		f->op[0] = (u8)(s->op[0] + 8 * op);
	else
		f->ext = (s8)op;
	if (op == 7) /* CMP writes nothing */
		f->flags &= ~(F_WMEM | F_WREG);
	else if (f->flags & F_WMEM)
		f->flags |= F_LOCK;
	if (op == 1 || op == 4 || op == 6)
		f->flags |= F_LOGIC;
}

const struct form *mmio_form(unsigned int i)
{
	if (i < N_PLAIN)
		return &plain_forms[i];
	i -= N_PLAIN;
	if (i >= N_ALU)
		return NULL;
	if (!alu_forms[i].op_len)
		make_alu(i);
	return &alu_forms[i];
}

bool form_in_mode(const struct form *f, const struct mode *md)
{
	if (md->x86 == X86_MODE_64)
		return !(f->flags & F_NO64);
	return !(f->flags & F_ONLY64);
}

u32 form_sizes(const struct form *f, const struct mode *md)
{
	if (f->flags & F_BYTE)
		return BIT(1);
	return BIT(2) | BIT(4) | (md->x86 == X86_MODE_64 ? BIT(8) : 0);
}

void form_name(const struct form *f, u32 size, char *buf, size_t n)
{
	static const char *const acc[9] = { [1] = "al", [2] = "ax", [4] = "eax", [8] = "rax" };
	static const char suffix[9] = { [1] = 'b', [2] = 'w', [4] = 'd', [8] = 'q' };
	size_t len = 0;

	for (const char *p = f->name; *p && len + 4 < n; p++) {
		if (*p == '#')
			len += format(buf + len, n - len, "%u", size * 8);
		else if (*p == '%')
			len += format(buf + len, n - len, "%u", MIN(size, 4u) * 8);
		else if (*p == '@')
			len += format(buf + len, n - len, "%s", acc[size]);
		else if (*p == '$')
			buf[len++] = suffix[size];
		else
			buf[len++] = *p;
	}
	buf[len] = '\0';
}
