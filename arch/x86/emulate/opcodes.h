/* Opcode tables shared by the decoder and the emulator (private to
 * arch/x86/emulate). The length tables say, for every opcode of the one-byte
 * and 0F maps, what follows the opcode; the op tables say which opcodes the
 * emulator executes and in what operand form. */
#ifndef X86_EMULATE_OPCODES_H
#define X86_EMULATE_OPCODES_H

#include <x86/emulate.h>

/* Immediate kinds: the low 4 bits of an attribute word. */
enum imm_kind {
	IMM_NONE,
	IMM_B,     /* 1 byte */
	IMM_W,     /* 2 bytes */
	IMM_Z,     /* 2 bytes with 16-bit operand size, else 4 */
	IMM_V,     /* 2, 4 or 8 bytes: the operand size (MOV r, imm) */
	IMM_MOFFS, /* an offset of the address size (MOV A0-A3) */
	IMM_FAR,   /* IMM_Z offset then a 2-byte selector (CALLF/JMPF ptr) */
	IMM_ENTER, /* 2 bytes then 1 byte (ENTER) */
	IMM_BB,    /* 1 byte then 1 byte (EXTRQ/INSERTQ) */
	IMM_GROUP, /* depends on ModRM.reg: resolved in decode.c */
};

/* Attribute bits above the immediate kind. */
#define A_IMM_MASK 0x000fu
#define A_MODRM    0x0010u /* a ModRM byte follows the opcode */
#define A_NO64     0x0020u /* invalid in 64-bit mode */
#define A_BAD      0x0040u /* undefined opcode: #UD in every mode */
#define A_REL64    0x0080u /* near branch: 64-bit in 64-bit mode, 66 ignored */
#define A_MODREG   0x0100u /* ModRM.mod ignored: registers only (MOV CR/DR) */
#define A_STRING   0x0200u /* string instruction: memory at rSI and/or rDI */

extern const u16 x86_onebyte_attr[256];
extern const u16 x86_0f_attr[256];

/* How an emulated instruction's operands are laid out. */
enum op_form {
	FORM_MEM_REG,   /* r/m is the destination (or first), ModRM.reg the source */
	FORM_REG_MEM,   /* ModRM.reg is the destination, r/m the source */
	FORM_MEM_IMM,   /* r/m is the destination, the immediate the source */
	FORM_ACC_MOFFS, /* AL/AX/EAX/RAX <- [moffs] */
	FORM_MOFFS_ACC, /* [moffs] <- AL/AX/EAX/RAX */
	FORM_STRING,    /* MOVS/STOS/LODS at rSI/rDI */
};

/* Flags of an op definition. */
#define OPF_BYTE  0x01 /* 8-bit operands whatever the prefixes */
#define OPF_SRC1  0x02 /* MOVZX/MOVSX/MOVSXD source size: 1 byte */
#define OPF_SRC2  0x04 /* ... 2 bytes */
#define OPF_SRC4  0x08 /* ... 4 bytes (or the operand size if smaller) */
#define OPF_64    0x10 /* only in 64-bit mode (MOVSXD; ARPL elsewhere) */

/* One emulated opcode. When group is set, the operation is group[ModRM.reg]
 * (X86_OP_NONE for the members the emulator does not execute). */
struct op_def {
	u8 op;    /* enum x86_op */
	u8 form;  /* enum op_form */
	u8 flags; /* OPF_* */
	const u8 *group;
};

/* The definition for an opcode, or NULL when the emulator does not know it.
 * Only the one-byte and 0F maps hold emulated instructions. */
const struct op_def *x86_op_def(unsigned int map, u8 opcode);

/* ModRM fields. */
static inline unsigned int modrm_mod(u8 modrm) { return modrm >> 6; }
static inline unsigned int modrm_reg(u8 modrm) { return (modrm >> 3) & 7; }
static inline unsigned int modrm_rm(u8 modrm) { return modrm & 7; }

#endif
