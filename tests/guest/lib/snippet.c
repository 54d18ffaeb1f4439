/* Descriptors, slots and register transfer for the runners in snippet.S. */
#include "cpu.h"
#include "desc.h"
#include "longmode.h"
#include "snippet.h"
#include "trap.h"
#include "util.h"

struct snip_io {
	u64 gpr[16];
	u64 rflags, fs_base, gs_base, host_sp;
};
_Static_assert(__builtin_offsetof(struct snip_io, rflags) == SNIP_IO_RFLAGS, "io");
_Static_assert(__builtin_offsetof(struct snip_io, fs_base) == SNIP_IO_FS_BASE, "io");
_Static_assert(__builtin_offsetof(struct snip_io, gs_base) == SNIP_IO_GS_BASE, "io");
_Static_assert(__builtin_offsetof(struct snip_io, host_sp) == SNIP_IO_HOST_SP, "io");

struct snip_io snip_io __aligned(8);
struct {
	u16 limit;
	u32 base;
} __packed snip_idt16_desc;

extern u64 gdt[];
extern u8 snip16_start[], snip_slot16[], snip_slot32[], snip_slot64[];
extern const u8 snip_trap16_stubs[], snip_run64[];
int snip_run16(void);
int snip_run32(u32 cr3);

#define GDT_LIB_ENTRIES (SEL_KCODE64 / 8 + 1)
#define GDT_ENTRIES (SEL_SNIP_GS / 8 + 1)

static u64 snip_gdt[GDT_ENTRIES] __aligned(8);
static u64 idt16[32][1] __aligned(8);
static struct {
	u16 pad, limit;
	u32 base;
} __packed __aligned(4) gdt_desc;

/* The flags a snippet may start with: arithmetic ones and DF. */
#define SNIP_FLAGS (X86_FLAGS_ARITH | X86_FLAGS_DF)

static u64 descriptor(u32 base, u32 limit, u8 access, u8 flags)
{
	return (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | ((u64)access << 40) |
	       ((u64)((limit >> 16) & 0xf) << 48) | ((u64)flags << 52) |
	       ((u64)(base >> 24) << 56);
}

/* Data segment: present, writable, 4 GiB (G), "big" (B) for SS. */
static void set_data_seg(u32 sel, u32 base)
{
	snip_gdt[sel / 8] = descriptor(base, 0xfffff, 0x92, 0xc);
}

void snip_init(void)
{
	u32 stubs = (u32)snip_trap16_stubs;

	memcpy(snip_gdt, gdt, GDT_LIB_ENTRIES * 8);
	/* Readable 16-bit code: the runner reads constants through CS. */
	snip_gdt[SEL_SNIP_CODE16 / 8] = descriptor((u32)snip16_start, 0xffff, 0x9a, 0);
	for (u32 sel = SEL_SNIP_ES; sel <= SEL_SNIP_GS; sel += 8)
		set_data_seg(sel, 0);
	gdt_desc.limit = sizeof(snip_gdt) - 1;
	gdt_desc.base = (u32)snip_gdt;
	__asm__ volatile("lgdt %0" ::"m"(gdt_desc.limit) : "memory");

	for (u32 v = 0; v < 32; v++) {
		u32 off = stubs + 16 * v;

		/* 32-bit interrupt gate, DPL 0 */
		idt16[v][0] = (off & 0xffff) | ((u64)SEL_KCODE << 16) | (0x8eull << 40) |
			      ((u64)(off >> 16) << 48);
	}
	snip_idt16_desc.limit = sizeof(idt16) - 1;
	snip_idt16_desc.base = (u32)idt16;
}

static u8 *slot(enum snip_mode mode)
{
	return mode == SNIP_16 ? snip_slot16 : mode == SNIP_32 ? snip_slot32 : snip_slot64;
}

u32 snip_next_rip(enum snip_mode mode)
{
	return (u32)slot(mode) + SNIP_SLOT_LEN;
}

/* Reload FS and GS so that their hidden bases are flat again (a visit to
 * long mode leaves the MSR values there). */
static void flat_fs_gs(void)
{
	__asm__ volatile("mov %0, %%fs; mov %0, %%gs" ::"r"(SEL_KDATA));
}

static int run(enum snip_mode mode, const struct snip_env *env)
{
	static const u8 segs[] = { X86_ES, X86_SS, X86_DS, X86_FS, X86_GS };
	static const u32 sels[] = { SEL_SNIP_ES, SEL_SNIP_SS, SEL_SNIP_DS, SEL_SNIP_FS,
				    SEL_SNIP_GS };
	int vec;

	for (u32 i = 0; i < ARRAY_SIZE(segs); i++)
		set_data_seg(sels[i], (u32)env->seg_base[segs[i]]);
	if (mode == SNIP_16)
		return snip_run16();
	if (mode == SNIP_32)
		return snip_run32(env->cr3);
	snip_io.fs_base = env->seg_base[X86_FS];
	snip_io.gs_base = env->seg_base[X86_GS];
	vec = lm_run(snip_run64, &snip_io, env->cr3);
	flat_fs_gs();
	__asm__ volatile("cld");
	return vec;
}

int snip_run(enum snip_mode mode, const struct snip_env *env, const u8 *code,
	     unsigned int len, struct snip_regs *regs)
{
	u8 *s = slot(mode);
	int vec;

	if (len > X86_MAX_INSN_LEN)
		return VEC_UD;
	memset(s, 0x90, SNIP_SLOT_LEN - len); /* NOP */
	memcpy(s + SNIP_SLOT_LEN - len, code, len);
	memcpy(snip_io.gpr, regs->gpr, sizeof(snip_io.gpr));
	snip_io.rflags = (regs->rflags & SNIP_FLAGS) | BIT(1);
	vec = run(mode, env);
	memcpy(regs->gpr, snip_io.gpr, sizeof(regs->gpr));
	regs->rflags = snip_io.rflags;
	if (mode != SNIP_64)
		for (u32 i = 0; i < 8; i++)
			regs->gpr[i] &= 0xffffffffu;
	return vec;
}
