/* What follows each opcode of the one-byte and 0F maps (SDM vol. 2, appendix
 * A), and which opcodes the emulator executes. The 0F 38 and 0F 3A maps need
 * no table: every instruction there has a ModRM byte, and those of 0F 3A an
 * 8-bit immediate. */
#include "opcodes.h"

#define __ 0u                        /* the opcode alone */
#define M_ A_MODRM                   /* ModRM (SIB, displacement) */
#define MB (A_MODRM | IMM_B)         /* ModRM, imm8 */
#define MZ (A_MODRM | IMM_Z)         /* ModRM, imm16/32 */
#define MG (A_MODRM | IMM_GROUP)     /* ModRM, immediate by ModRM.reg */
#define MR (A_MODRM | A_MODREG)      /* ModRM naming registers only */
#define IB IMM_B
#define IW IMM_W
#define IZ IMM_Z
#define IV IMM_V
#define AO IMM_MOFFS                 /* MOV AL/eAX <-> moffs */
#define ST A_STRING                  /* string instruction: memory at rSI/rDI */
#define JB (IMM_B | A_REL64)         /* rel8 branch */
#define JZ (IMM_Z | A_REL64)         /* rel16/32 branch */
#define XX A_BAD                     /* undefined */
#define PF A_BAD                     /* a prefix: consumed before any lookup */
#define EX A_BAD                     /* escape to the 0F map: never looked up */
#define NO(a) ((a) | A_NO64)         /* invalid in 64-bit mode */

const u16 x86_onebyte_attr[256] = {
/*         0       1       2       3       4       5       6       7
 *         8       9       a       b       c       d       e       f */
/* 00 */   M_,     M_,     M_,     M_,     IB,     IZ,     NO(__), NO(__),
	   M_,     M_,     M_,     M_,     IB,     IZ,     NO(__), EX,
/* 10 */   M_,     M_,     M_,     M_,     IB,     IZ,     NO(__), NO(__),
	   M_,     M_,     M_,     M_,     IB,     IZ,     NO(__), NO(__),
/* 20 */   M_,     M_,     M_,     M_,     IB,     IZ,     PF,     NO(__),
	   M_,     M_,     M_,     M_,     IB,     IZ,     PF,     NO(__),
/* 30 */   M_,     M_,     M_,     M_,     IB,     IZ,     PF,     NO(__),
	   M_,     M_,     M_,     M_,     IB,     IZ,     PF,     NO(__),
/* 40 */   __,     __,     __,     __,     __,     __,     __,     __,
	   __,     __,     __,     __,     __,     __,     __,     __,
/* 50 */   __,     __,     __,     __,     __,     __,     __,     __,
	   __,     __,     __,     __,     __,     __,     __,     __,
/* 60 */   NO(__), NO(__), NO(M_), M_,     PF,     PF,     PF,     PF,
	   IZ,     MZ,     IB,     MB,     ST,     ST,     ST,     ST,
/* 70 */   JB,     JB,     JB,     JB,     JB,     JB,     JB,     JB,
	   JB,     JB,     JB,     JB,     JB,     JB,     JB,     JB,
/* 80 */   MB,     MZ,     NO(MB), MB,     M_,     M_,     M_,     M_,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
/* 90 */   __,     __,     __,     __,     __,     __,     __,     __,
	   __,     __,     NO(IMM_FAR), __, __,    __,     __,     __,
/* a0 */   AO,     AO,     AO,     AO,     ST,     ST,     ST,     ST,
	   IB,     IZ,     ST,     ST,     ST,     ST,     ST,     ST,
/* b0 */   IB,     IB,     IB,     IB,     IB,     IB,     IB,     IB,
	   IV,     IV,     IV,     IV,     IV,     IV,     IV,     IV,
/* c0 */   MB,     MB,     IW,     __,     NO(M_), NO(M_), MG,     MG,
	   IMM_ENTER, __,  IW,     __,     __,     IB,     NO(__), __,
/* d0 */   M_,     M_,     M_,     M_,     NO(IB), NO(IB), NO(__), __,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
/* e0 */   JB,     JB,     JB,     JB,     IB,     IB,     IB,     IB,
	   JZ,     JZ,     NO(IMM_FAR), JB, __,    __,     __,     __,
/* f0 */   PF,     __,     PF,     PF,     __,     __,     MG,     MG,
	   __,     __,     __,     __,     __,     __,     M_,     M_,
};

/* 0F 38 and 0F 3A are escapes to the three-byte maps (decode.c). 0F 0F is
 * 3DNow!: the operation byte comes last, where an imm8 would. */
const u16 x86_0f_attr[256] = {
/*         0       1       2       3       4       5       6       7
 *         8       9       a       b       c       d       e       f */
/* 00 */   M_,     M_,     M_,     M_,     XX,     __,     __,     __,
	   __,     __,     XX,     __,     XX,     M_,     __,     MB,
/* 10 */   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
/* 20 */   MR,     MR,     MR,     MR,     XX,     XX,     XX,     XX,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
/* 30 */   __,     __,     __,     __,     __,     __,     XX,     __,
	   XX,     XX,     XX,     XX,     XX,     XX,     XX,     XX,
/* 40 */   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
/* 50 */   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
/* 60 */   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
/* 70 */   MB,     MB,     MB,     MB,     M_,     M_,     M_,     __,
	   MG,     M_,     XX,     XX,     M_,     M_,     M_,     M_,
/* 80 */   JZ,     JZ,     JZ,     JZ,     JZ,     JZ,     JZ,     JZ,
	   JZ,     JZ,     JZ,     JZ,     JZ,     JZ,     JZ,     JZ,
/* 90 */   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
/* a0 */   __,     __,     __,     M_,     MB,     M_,     M_,     M_,
	   __,     __,     __,     M_,     MB,     M_,     M_,     M_,
/* b0 */   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
	   MG,     M_,     MB,     M_,     M_,     M_,     M_,     M_,
/* c0 */   M_,     M_,     MB,     M_,     MB,     MB,     MB,     M_,
	   __,     __,     __,     __,     __,     __,     __,     __,
/* d0 */   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
/* e0 */   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
/* f0 */   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
	   M_,     M_,     M_,     M_,     M_,     M_,     M_,     M_,
};

/* Groups: the operation is chosen by ModRM.reg. */
static const u8 grp1[8] = { X86_OP_ADD, X86_OP_OR, X86_OP_ADC, X86_OP_SBB,
			    X86_OP_AND, X86_OP_SUB, X86_OP_XOR, X86_OP_CMP };
static const u8 grp3[8] = { X86_OP_TEST, X86_OP_TEST }; /* /1 aliases /0 */
static const u8 grp11[8] = { X86_OP_MOV };
static const u8 grp8[8] = { [4] = X86_OP_BT, X86_OP_BTS, X86_OP_BTR,
			    X86_OP_BTC };

/* The ALU rows 00-3B: op r/m8,r8; op r/m,r; op r8,r/m8; op r,r/m. */
#define ALU(base, o)                                                  \
	[(base) + 0] = { (o), FORM_MEM_REG, OPF_BYTE, NULL },         \
	[(base) + 1] = { (o), FORM_MEM_REG, 0, NULL },                \
	[(base) + 2] = { (o), FORM_REG_MEM, OPF_BYTE, NULL },         \
	[(base) + 3] = { (o), FORM_REG_MEM, 0, NULL }

static const struct op_def onebyte_ops[256] = {
	ALU(0x00, X86_OP_ADD), ALU(0x08, X86_OP_OR),
	ALU(0x10, X86_OP_ADC), ALU(0x18, X86_OP_SBB),
	ALU(0x20, X86_OP_AND), ALU(0x28, X86_OP_SUB),
	ALU(0x30, X86_OP_XOR), ALU(0x38, X86_OP_CMP),
	[0x63] = { X86_OP_MOVSX, FORM_REG_MEM, OPF_SRC4 | OPF_64, NULL },
	[0x80] = { 0, FORM_MEM_IMM, OPF_BYTE, grp1 },
	[0x81] = { 0, FORM_MEM_IMM, 0, grp1 },
	[0x82] = { 0, FORM_MEM_IMM, OPF_BYTE, grp1 }, /* 80 alias, not in 64-bit */
	[0x83] = { 0, FORM_MEM_IMM, 0, grp1 },
	[0x84] = { X86_OP_TEST, FORM_MEM_REG, OPF_BYTE, NULL },
	[0x85] = { X86_OP_TEST, FORM_MEM_REG, 0, NULL },
	[0x86] = { X86_OP_XCHG, FORM_MEM_REG, OPF_BYTE, NULL },
	[0x87] = { X86_OP_XCHG, FORM_MEM_REG, 0, NULL },
	[0x88] = { X86_OP_MOV, FORM_MEM_REG, OPF_BYTE, NULL },
	[0x89] = { X86_OP_MOV, FORM_MEM_REG, 0, NULL },
	[0x8a] = { X86_OP_MOV, FORM_REG_MEM, OPF_BYTE, NULL },
	[0x8b] = { X86_OP_MOV, FORM_REG_MEM, 0, NULL },
	[0xa0] = { X86_OP_MOV, FORM_ACC_MOFFS, OPF_BYTE, NULL },
	[0xa1] = { X86_OP_MOV, FORM_ACC_MOFFS, 0, NULL },
	[0xa2] = { X86_OP_MOV, FORM_MOFFS_ACC, OPF_BYTE, NULL },
	[0xa3] = { X86_OP_MOV, FORM_MOFFS_ACC, 0, NULL },
	[0xa4] = { X86_OP_MOVS, FORM_STRING, OPF_BYTE, NULL },
	[0xa5] = { X86_OP_MOVS, FORM_STRING, 0, NULL },
	[0xaa] = { X86_OP_STOS, FORM_STRING, OPF_BYTE, NULL },
	[0xab] = { X86_OP_STOS, FORM_STRING, 0, NULL },
	[0xac] = { X86_OP_LODS, FORM_STRING, OPF_BYTE, NULL },
	[0xad] = { X86_OP_LODS, FORM_STRING, 0, NULL },
	[0xc6] = { 0, FORM_MEM_IMM, OPF_BYTE, grp11 },
	[0xc7] = { 0, FORM_MEM_IMM, 0, grp11 },
	[0xf6] = { 0, FORM_MEM_IMM, OPF_BYTE, grp3 },
	[0xf7] = { 0, FORM_MEM_IMM, 0, grp3 },
};

static const struct op_def twobyte_ops[256] = {
	[0xa3] = { X86_OP_BT, FORM_MEM_REG, 0, NULL },
	[0xab] = { X86_OP_BTS, FORM_MEM_REG, 0, NULL },
	[0xb3] = { X86_OP_BTR, FORM_MEM_REG, 0, NULL },
	[0xbb] = { X86_OP_BTC, FORM_MEM_REG, 0, NULL },
	[0xba] = { 0, FORM_MEM_IMM, 0, grp8 },
	[0xb6] = { X86_OP_MOVZX, FORM_REG_MEM, OPF_SRC1, NULL },
	[0xb7] = { X86_OP_MOVZX, FORM_REG_MEM, OPF_SRC2, NULL },
	[0xbe] = { X86_OP_MOVSX, FORM_REG_MEM, OPF_SRC1, NULL },
	[0xbf] = { X86_OP_MOVSX, FORM_REG_MEM, OPF_SRC2, NULL },
};

const struct op_def *x86_op_def(unsigned int map, u8 opcode)
{
	const struct op_def *d;

	if (map == 0)
		d = &onebyte_ops[opcode];
	else if (map == 1)
		d = &twobyte_ops[opcode];
	else
		return NULL;
	return d->op != X86_OP_NONE || d->group ? d : NULL;
}
