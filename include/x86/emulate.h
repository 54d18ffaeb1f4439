/* x86 instruction decoder and memory-operand emulator.
 *
 * Used where a guest instruction touched memory that lamina traps (its own
 * hidden memory, the local APIC while APs start, mediated MMIO) and, with
 * x86_insn_length(), to step over intercepted instructions when the CPU
 * does not report the next RIP (AMD without NRIPS).
 *
 * Pure logic: no guest state is read except through struct emu_ctx, so the
 * same code runs in lamina and in host unit tests. */
#ifndef X86_EMULATE_H
#define X86_EMULATE_H

#include <core/types.h>

#define X86_MAX_INSN_LEN 15

enum x86_mode {
	X86_MODE_16, /* real mode, virtual-8086, or 16-bit protected CS */
	X86_MODE_32, /* 32-bit protected (CS.D=1) or compatibility mode */
	X86_MODE_64, /* 64-bit long mode (CS.L=1) */
};

enum x86_seg { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS, X86_SEG_NONE };

enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

/* RFLAGS bits the emulator reads or writes. */
#define X86_FLAGS_CF BIT(0)
#define X86_FLAGS_PF BIT(2)
#define X86_FLAGS_AF BIT(4)
#define X86_FLAGS_ZF BIT(6)
#define X86_FLAGS_SF BIT(7)
#define X86_FLAGS_TF BIT(8)
#define X86_FLAGS_IF BIT(9)
#define X86_FLAGS_DF BIT(10)
#define X86_FLAGS_OF BIT(11)
#define X86_FLAGS_ARITH (X86_FLAGS_CF | X86_FLAGS_PF | X86_FLAGS_AF | \
			 X86_FLAGS_ZF | X86_FLAGS_SF | X86_FLAGS_OF)

/* Prefix bits in struct x86_insn.prefixes. */
#define X86_PFX_LOCK BIT(0)
#define X86_PFX_REP BIT(1)   /* F3 */
#define X86_PFX_REPNE BIT(2) /* F2 */
#define X86_PFX_OPSIZE BIT(3) /* 66 */
#define X86_PFX_ADSIZE BIT(4) /* 67 */

/* Instructions the emulator can execute (the decoder knows the length of
 * every instruction of the one-, two- and three-byte maps, but only these
 * have semantics). */
enum x86_op {
	X86_OP_NONE,    /* decoded for its length only */
	X86_OP_MOV,     /* 88 89 8A 8B C6 C7 A0-A3 */
	X86_OP_MOVZX,   /* 0F B6 0F B7 */
	X86_OP_MOVSX,   /* 0F BE 0F BF, 63 (MOVSXD) */
	X86_OP_MOVS,    /* A4 A5 */
	X86_OP_STOS,    /* AA AB */
	X86_OP_LODS,    /* AC AD */
	X86_OP_ADD, X86_OP_OR, X86_OP_ADC, X86_OP_SBB,
	X86_OP_AND, X86_OP_SUB, X86_OP_XOR, X86_OP_CMP,
	X86_OP_TEST,    /* 84 85 F6/0 F7/0 */
	X86_OP_XCHG,    /* 86 87 */
	X86_OP_BT, X86_OP_BTS, X86_OP_BTR, X86_OP_BTC,
};

struct x86_insn {
	u8 len;            /* total length in bytes */
	u8 opcode_map;     /* 0: one-byte, 1: 0F, 2: 0F 38, 3: 0F 3A */
	u8 opcode;         /* last opcode byte */
	u8 prefixes;       /* X86_PFX_* */
	u8 rex;            /* 0 when absent */
	u8 vex;            /* 0, or C4/C5 (VEX), 62 (EVEX), 8F (XOP): then
			    * opcode_map is the map that prefix selects */
	enum x86_seg seg_override; /* X86_SEG_NONE when absent */
	u8 opsize;         /* operand size in bytes: 1, 2, 4 or 8 (exact for
			    * the emulated opcodes; elsewhere 1 is not told
			    * apart from the 66/REX.W size) */
	u8 adsize;         /* address size in bytes: 2, 4 or 8 */
	bool has_modrm;
	u8 modrm, sib;
	s64 disp;          /* sign-extended */
	u64 imm;           /* zero-extended raw immediate: all its bytes
			    * (ENTER iw+ib, far ptr offset+selector), a
			    * moffs, or 3DNow!'s trailing operation byte */
	u8 imm_size;
	enum x86_op op;
	bool mem_operand;  /* has a memory operand (ModRM mod != 3, moffs, string) */
};

/* Why x86_decode() did not decode: what the CPU does with such bytes. */
enum x86_decode_error {
	X86_DECODE_INVALID = -1,  /* not an instruction in this mode: #UD */
	X86_DECODE_SHORT = -2,    /* the bytes (fewer than 15) end before the
				   * instruction does: the CPU would fetch more */
	X86_DECODE_TOO_LONG = -3, /* longer than 15 bytes: #GP(0) */
};

/* Decode one instruction from at most avail bytes. Returns 0, or an
 * enum x86_decode_error. */
int x86_decode(const u8 *bytes, unsigned int avail, enum x86_mode mode,
	       struct x86_insn *insn);

/* Length of the instruction at bytes, or 0 when it does not decode. */
unsigned int x86_insn_length(const u8 *bytes, unsigned int avail,
			     enum x86_mode mode);

/* A fault raised while emulating, to be injected into the guest. */
struct emu_fault {
	u8 vector;        /* 13 (#GP), 14 (#PF), 6 (#UD), ..., EMU_VECTOR_RETRY */
	bool has_error;
	u32 error_code;
	u64 cr2;          /* for #PF */
};

/* Not an exception: an access could not be made yet (the guest kept
 * rewriting a page-table entry lamina was walking), and the instruction
 * runs again with nothing delivered; any REP iterations done stay done,
 * as when an interrupt comes between them. */
#define EMU_VECTOR_RETRY 0xff

struct emu_ctx;

/* A register after writing its low size bytes with v: a 4-byte write
 * zero-extends (in 64-bit mode; elsewhere the upper half is not
 * visible), 1- and 2-byte writes keep the rest. */
static inline u64 x86_reg_write(u64 old, unsigned int size, u64 v)
{
	u64 m = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;

	return size == 4 ? v & m : (old & ~m) | (v & m);
}

/* Memory access at a guest linear address (segment base already added).
 * size is 1, 2, 4 or 8; an access may cross a page boundary and the
 * callback splits it. Returns 0, or -1 after filling ctx->fault. A read
 * for_write is that of a read-modify-write instruction: the CPU checks
 * the write first, so a page it may not write faults (W=1) before
 * anything is read. */
struct emu_ops {
	int (*read)(struct emu_ctx *ctx, u64 la, void *data, unsigned int size,
		    bool for_write);
	int (*write)(struct emu_ctx *ctx, u64 la, const void *data,
		     unsigned int size);
};

struct emu_ctx {
	const struct emu_ops *ops;
	void *opaque;          /* for the callbacks */
	enum x86_mode mode;
	u64 gpr[16];           /* indexed by enum x86_gpr */
	u64 rip;
	u64 rflags;
	u64 seg_base[6];       /* indexed by enum x86_seg; ignored for ES/CS/SS/DS in 64-bit mode */
	unsigned int max_rep;  /* iterations of a REP string op per call; 0 means 1024 */
	struct emu_fault fault;
};

enum emu_result {
	EMU_OK,          /* done; rip advanced past the instruction */
	EMU_CONTINUE,    /* REP op did max_rep iterations; rip unchanged, RCX updated: re-run */
	EMU_UNSUPPORTED, /* not an instruction the emulator executes */
	EMU_FAULT,       /* ctx->fault holds an exception to inject (a callback's, or
			  * #UD for LOCK where the CPU raises it); state as at
			  * the faulting iteration */
};

/* Execute a decoded instruction against ctx (registers, flags, rip).
 * Memory goes through ctx->ops. */
enum emu_result x86_emulate(struct emu_ctx *ctx, const struct x86_insn *insn);

/* Data breakpoints in DR7 (enabled, R/W 01 or 11) as DR6's B0-B3 bits,
 * and those an access of `size` bytes at linear `la` hits (dr: DR0-DR3). */
u8 x86_data_breakpoints_armed(u64 dr7);
u8 x86_data_breakpoints_hit(u64 dr7, const u64 dr[4], u64 la, unsigned int size, bool write);

/* The linear address of insn's ModRM/moffs memory operand in ctx. For a
 * string instruction: the source at seg:rSI, or for STOS/INS the
 * destination at ES:rDI. */
u64 x86_operand_address(const struct emu_ctx *ctx, const struct x86_insn *insn);

#endif
