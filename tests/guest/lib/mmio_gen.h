/* Test cases for the MMIO emulator kernel (tests/guest/mmio.c): every
 * instruction form lamina's emulator executes, with generated operands.
 *
 * A case is one instruction whose memory operand lies in a three-page
 * window: [before][page][after]. The kernel runs it once with the window
 * on RAM and once with the trapped page in the middle; this file only
 * builds cases. Window offsets ("wo") count from the start of the window.
 * Accesses stay within HOT_LEN bytes of the page's two edges (the "hot"
 * ranges), which the kernel fills before and compares after each case,
 * except where a REP count covers more (then the whole window is
 * compared when the form's cases are done). */
#ifndef GUEST_MMIO_GEN_H
#define GUEST_MMIO_GEN_H

#include <core/types.h>
#include "snippet.h"
#include "x86enc.h"

#define WIN_PAGE 0x1000u /* the page's offset in the window */
#define WIN_SIZE 0x3000u
#define HOT_LEN 0x200u   /* each hot range: 0x100 bytes either side of an edge */
#define HOT_RANGES 2
static inline u32 hot_start(u32 i)
{
	return WIN_PAGE - HOT_LEN / 2 + i * WIN_PAGE;
}

/* Linear addresses of the window in 32- and 64-bit code. */
#define WIN_LO 0x40000000ull
#define WIN_HI 0xffffffffc0000000ull

/* A mode, and where its segments and window lie. In 16-bit code the
 * bases and the window are relative to the 64 KiB area the segments
 * cover, whose start moves with the memory under test. */
struct mode {
	enum snip_mode snip;
	enum x86_mode x86;
	const char *name;
	u8 opsize, adsize;   /* defaults */
	u8 adsize67;         /* the address size a 67 prefix selects */
	u8 nregs;            /* 8, or 16 in 64-bit code */
	u64 seg_base[6];     /* enum x86_seg */
	u64 win[2];          /* linear addresses of the window's start */
	u8 n_win;
	u32 sp;              /* RSP (16-bit: in SS) */
};

/* Kinds of forms. */
enum form_kind {
	K_MR,    /* ModRM r/m is memory, ModRM.reg a register operand */
	K_RM,    /* the register is the destination */
	K_MI,    /* memory and an immediate */
	K_MOFFS, /* A0-A3 */
	K_STR,   /* MOVS, STOS, LODS */
};

#define F_BYTE BIT(0)   /* 8-bit operands whatever the size */
#define F_WMEM BIT(1)   /* writes memory */
#define F_WREG BIT(2)   /* writes its register */
#define F_LOGIC BIT(3)  /* AF undefined */
#define F_BT BIT(4)     /* bit test: only CF (and ZF, kept) defined */
#define F_NO64 BIT(5)
#define F_ONLY64 BIT(6)
#define F_LOCK BIT(7)   /* LOCK is allowed */
#define F_REP BIT(8)    /* string: with REP */
#define F_UNDOC BIT(9)  /* undocumented: some CPUs (QEMU's) raise #UD */

#define IMM_Z 0xff      /* imm16 with 16-bit operands, else imm32 */

enum str_op { STR_MOVS, STR_STOS, STR_LODS };

struct form {
	char name[32];  /* '#': operand bits, '%': immediate bits, '@': accumulator, '$': b/w/d/q */
	u8 op[2], op_len;
	s8 ext;         /* ModRM.reg extension, -1 for a register */
	u8 kind;
	u16 flags;
	u8 imm;         /* 0, 1, or IMM_Z */
	u8 msize;       /* memory operand size if not the operand size (MOVZX ...) */
	u8 str;         /* enum str_op */
};

struct rnd {
	u64 s;
};

static inline u64 rnd64(struct rnd *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n). */
static inline u32 rnd(struct rnd *r, u32 n)
{
	return (u32)(rnd64(r) >> 32) % n;
}

struct mcase {
	u8 code[X86_MAX_INSN_LEN];
	u8 len;
	struct snip_regs in;
	u8 hot[HOT_RANGES][HOT_LEN]; /* initial bytes of the hot ranges */
	u64 flags_mask;              /* the RFLAGS bits to compare: the defined ones */
	bool touches;                /* it accesses the page */
};

/* Constraints for a case, beyond the form. */
struct gen_opts {
	u8 adsize;     /* address size, 0: the mode's or at times the other */
	int tmpl;      /* addressing template (mmio_addr_template), -1: random */
	int seg;       /* segment override: enum x86_seg, X86_SEG_NONE, or -1: random */
	bool straddle; /* the access straddles one of the page's edges */
	bool lock;
};

extern struct mode mmio_modes[3];

/* Forms (mmio_forms.c): all of them, one by one; NULL past the end. */
const struct form *mmio_form(unsigned int i);
bool form_in_mode(const struct form *f, const struct mode *md);
/* Operand sizes of f in md, as a mask of BIT(size). */
u32 form_sizes(const struct form *f, const struct mode *md);
void form_name(const struct form *f, u32 size, char *buf, size_t n);

/* Memory operands (mmio_operand.c). */
bool mmio_addr_template(const struct mode *md, u8 adsize, int n, struct x86_mem *m);
void mmio_random_mem(const struct mode *md, u8 adsize, struct rnd *r, struct x86_mem *m);
bool mmio_ea(const struct mode *md, u8 adsize, enum x86_seg seg, u32 wo, struct rnd *r,
	     u64 *ea);
bool mmio_solve(const struct mode *md, struct x86_mem *m, u64 ea, u64 *gpr, struct rnd *r);
u64 mmio_garbage(const struct mode *md, u8 width, u64 v, struct rnd *r);

/* A case (mmio_gen.c). False if none could be made (retry with another
 * random state). */
bool mmio_gen_case(const struct mode *md, const struct form *f, u32 size,
		   const struct gen_opts *o, struct rnd *r, struct mcase *c);
/* A value for an operand of `size` bytes: edge values and random ones. */
u64 mmio_value(struct rnd *r, u32 size);

#endif
