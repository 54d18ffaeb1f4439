/* task_switch: hardware task switches with 32-bit TSSs (SDM Vol. 3A 7.3),
 * which VT-x cannot run in a guest (lamina emulates them) and AMD-V runs
 * itself. Task A is the kernel (TR = SEL_TSS); it
 *  - JMPs to task B, which records its registers and JMPs back;
 *  - CALLs task C through a task gate in the GDT; C IRETs back (NT, link);
 *  - runs INT 0x81 through an IDT task gate to task D, which IRETs back;
 *  - raises #GP(0x1000) through an IDT task gate to task E, which finds
 *    the error code on its stack and sends A on past the fault;
 *  - with paging on, raises #PF through an IDT task gate to a TSS on a
 *    page that is not present: reading it faults (#PF while delivering
 *    #PF), which makes a #DF, delivered through a task gate to task F;
 *  - sends itself two NMIs through the APIC, each delivered through a
 *    task gate to task N, which IRETs back: the IRET ends NMI blocking;
 *  - JMPs to task T, whose TSS has the debug trap bit (T) set: a #DB
 *    with DR6.BT comes before T's first instruction (QEMU ignores the
 *    T bit: the check runs only with the option t_bit=1).
 * Each time it checks what the switch saved into the old TSS (EIP past
 * the instruction, or at the faulting one; registers), busy bits, the
 * back link, NT and CR0.TS. Task B's TSS has EFLAGS bit 15 (reserved)
 * set, which the switch leaves clear, and the switch to B clears DR7's
 * local breakpoint enables (L0-L3). */
#include "apic.h"
#include "boot.h"
#include "cpu.h"
#include "desc.h"
#include "hc.h"
#include "print.h"
#include "tap.h"
#include "trap.h"

const char test_name[] = "task_switch";
const char *const test_options[] = { "t_bit", "stale_dr6", NULL };

#define SEL_TSS_B 0x38
#define SEL_TSS_C 0x40
#define SEL_TSS_D 0x48
#define SEL_GATE_C 0x50
#define SEL_TSS_E 0x58
#define SEL_TSS_X 0x60 /* its TSS is on a page that is not present */
#define SEL_TSS_F 0x68
#define SEL_TSS_N 0x70
#define SEL_TSS_T 0x78
#define GDT_ENTRIES 16
#define VEC_DB 1
#define VEC_NMI 2
#define VEC_DF 8
#define VEC_PF 14
#define BAD_TSS_BASE 0xc0000000u /* PDE 768 not present */
#define PG_PRESENT_RW_4M 0x83
#define CR4_PSE_BIT BIT(4)
#define CR0_PG_BIT BIT(31)
#define DR7_FIXED 0x400
#define DR7_LOCAL 0x55
#define DR7_TEST (DR7_FIXED | 0x7) /* L0, G0, L1 */
#define TASK_VECTOR 0x81
#define BAD_SEL 0x1000 /* beyond the GDT's limit: #GP(0x1000) */
#define TYPE_AVAIL 0x89
#define TYPE_BUSY 0x8b
#define EFLAGS_NT BIT(14)
#define CR0_TS BIT(3)

struct tss32 {
	u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u32 es, cs, ss, ds, fs, gs, ldt;
	u16 trap, iomap;
} __packed;

/* What each task saw, written by the assembly below. */
struct seen {
	u32 regs[8];   /* pushal order: edi esi ebp esp ebx edx ecx eax */
	u32 eflags, cr0, tr, cs, ss, ds, fs;
	u32 ran, err;
	u32 own_lo, own_hi, a_lo, a_hi; /* descriptors of its TSS and A's */
	u32 a_eip;     /* E, F: EIP in A's TSS before the task changes it */
	u32 dr7, cr2;  /* B: DR7; F: CR2 */
};

extern u64 gdt[];
extern char a_after_jmp[], a_after_call[], a_after_int[], a_gp_insn[], a_gp_resume[];
extern char task_b[], task_c[], task_d[], task_e[], b_after_jmp[], c_after_iret[];
extern char task_f[], task_n[], n_after_iret[], a_df_insn[], a_df_resume[], task_t[], db_handler[];
void run_jmp(void);
void run_call(void);
void run_int(void);
void run_gp(void);
void run_df(void);
void run_t(void);

u64 gdt2[GDT_ENTRIES] __aligned(8);
struct seen seen_b, seen_c, seen_d, seen_e, seen_f, seen_n;
/* What the #DB handler saw: DR6, the EIP it interrupted, TR, how often. */
u32 db_dr6, db_eip, db_tr, db_count, t_ran;
u32 n_self_nmi; /* N sends itself an NMI before its next IRET */
u32 n_decoy;    /* N calls n_prepare_decoy first */
u32 nmi_count;  /* NMIs through the interrupt gate nmi_counter */
u32 a_regs[8];           /* A's registers after it got back (pushal order) */
struct tss32 *a_tss;
u32 gp_resume = (u32)a_gp_resume, df_resume = (u32)a_df_resume;
static struct tss32 tss_b, tss_c, tss_d, tss_e, tss_f, tss_n, tss_t;
static u8 stacks[7][1024] __aligned(16);
static u32 pd[1024] __aligned(4096);
static u32 pd_n[1024] __aligned(4096); /* N's own, in check_nmi_tss_cr3 */
static u64 switches; /* the task switches the checks ran */
static struct {
	u16 pad, limit;
	u32 base;
} __packed __aligned(4) gdt2_desc;

/* A records everything a task switch must keep: GPRs are set to markers
 * before the switch and stored after it. */
#define A_MARKERS                                                         \
	"pushal\n"                                                        \
	"movl $0xa0000001, %eax\n movl $0xa0000002, %ecx\n"               \
	"movl $0xa0000003, %edx\n movl $0xa0000004, %ebx\n"               \
	"movl $0xa0000006, %ebp\n movl $0xa0000007, %esi\n"               \
	"movl $0xa0000008, %edi\n"
#define A_STORE                                                           \
	"pushal\n movl %esp, %esi\n movl $a_regs, %edi\n movl $8, %ecx\n" \
	"cld\n rep movsl\n addl $32, %esp\n popal\n ret\n"
/* A task records its state into `seen`, ending with the descriptors of
 * its own TSS and task A's. */
#define TASK_RECORD(seen, own)                                            \
	"pushal\n movl %esp, %esi\n movl $" seen ", %edi\n movl $8, %ecx\n" \
	"cld\n rep movsl\n addl $32, %esp\n"                              \
	"pushfl\n popl " seen "+32\n"                                     \
	"movl %cr0, %eax\n movl %eax, " seen "+36\n"                      \
	"xorl %eax, %eax\n str %ax\n movl %eax, " seen "+40\n"            \
	"movw %cs, %ax\n movl %eax, " seen "+44\n"                        \
	"movw %ss, %ax\n movl %eax, " seen "+48\n"                        \
	"movw %ds, %ax\n movl %eax, " seen "+52\n"                        \
	"movw %fs, %ax\n movl %eax, " seen "+56\n"                        \
	"movl gdt2+" own ", %eax\n movl %eax, " seen "+68\n"              \
	"movl gdt2+" own "+4, %eax\n movl %eax, " seen "+72\n"            \
	"movl gdt2+40, %eax\n movl %eax, " seen "+76\n"                   \
	"movl gdt2+44, %eax\n movl %eax, " seen "+80\n"                   \
	"incl " seen "+60\n"

__asm__(".text\n"
	".globl run_jmp, run_call, run_int, run_gp, run_df\n"
	".globl a_after_jmp, a_after_call, a_after_int, a_gp_insn, a_gp_resume\n"
	".globl task_b, task_c, task_d, task_e, b_after_jmp, c_after_iret\n"
	".globl task_f, task_n, a_df_insn, a_df_resume, run_t, task_t, db_handler\n"
	"run_jmp:\n" A_MARKERS "ljmp $0x38, $0\n"
	"a_after_jmp:\n" A_STORE
	"run_call:\n" A_MARKERS "lcall $0x50, $0\n"
	"a_after_call:\n" A_STORE
	"run_int:\n" A_MARKERS "int $0x81\n"
	"a_after_int:\n" A_STORE
	"run_gp:\n" A_MARKERS "movl $0x1000, %eax\n"
	"a_gp_insn:\n movw %ax, %fs\n"
	"a_gp_resume:\n" A_STORE
	"run_t:\n pushal\n ljmp $0x78, $0\n popal\n ret\n"
	"run_df:\n pushal\n"
	"a_df_insn:\n movl 0xc0000100, %eax\n"
	"a_df_resume:\n popal\n ret\n"
	/* B: JMPs back to A (no link, no NT). */
	"task_b:\n" TASK_RECORD("seen_b", "56")
	"movl %dr7, %eax\n movl %eax, seen_b+88\n ljmp $0x28, $0\n"
	"b_after_jmp:\n jmp task_b\n"
	/* C and D: IRET to the task that called them (NT, back link). */
	"task_c:\n" TASK_RECORD("seen_c", "64") "iret\n"
	"c_after_iret:\n jmp task_c\n"
	"task_d:\n" TASK_RECORD("seen_d", "72") "iret\n jmp task_d\n"
	/* E: the #GP's error code is on its stack; A goes on past the fault. */
	"task_e:\n" TASK_RECORD("seen_e", "88") "popl seen_e+64\n"
	"movl a_tss, %eax\n movl 32(%eax), %ecx\n movl %ecx, seen_e+84\n movl gp_resume, %ecx\n movl %ecx, 32(%eax)\n"
	"iret\n jmp task_e\n"
	/* F: the #DF's error code (0) is on its stack; A goes on past the
	 * faulting MOV. */
	"task_f:\n" TASK_RECORD("seen_f", "104") "popl seen_f+64\n"
	"movl %cr2, %eax\n movl %eax, seen_f+92\n"
	"movl a_tss, %eax\n movl 32(%eax), %ecx\n movl %ecx, seen_f+84\n movl df_resume, %ecx\n movl %ecx, 32(%eax)\n"
	"iret\n jmp task_f\n"
	/* N: the NMI handler task. */
	"task_n:\n" TASK_RECORD("seen_n", "112")
	"cmpl $0, n_decoy\n je 2f\n call n_prepare_decoy\n"
	"2: cmpl $0, n_self_nmi\n je 1f\n movl $0, n_self_nmi\n call n_send_nmi\n"
	"1: iret\n .globl n_after_iret\n n_after_iret: jmp task_n\n"
	/* An NMI through an interrupt gate: counts. */
	".globl nmi_counter\n nmi_counter:\n incl nmi_count\n iret\n"
	/* T: counts its runs and JMPs back to A. */
	"task_t:\n incl t_ran\n ljmp $0x28, $0\n jmp task_t\n"
	/* #DB (interrupt gate): records, resets DR6 and returns. */
	"db_handler:\n pushl %eax\n movl %dr6, %eax\n movl %eax, db_dr6\n"
	"movl 4(%esp), %eax\n movl %eax, db_eip\n xorl %eax, %eax\n str %ax\n"
	"movl %eax, db_tr\n incl db_count\n movl $0xffff0ff0, %eax\n movl %eax, %dr6\n"
	"popl %eax\n iret\n");

static u64 tss_desc_at(u32 base)
{
	u32 limit = sizeof(struct tss32) - 1;

	return (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | ((u64)TYPE_AVAIL << 40) |
	       ((u64)(base >> 24) << 56);
}

static u64 tss_desc(const struct tss32 *t)
{
	return tss_desc_at((u32)t);
}

static u32 desc_base(u64 d)
{
	return (u32)(((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000));
}

static unsigned int desc_access(u64 d)
{
	return (d >> 40) & 0xff;
}

static unsigned int hi_access(u32 hi)
{
	return (hi >> 8) & 0xff;
}

static void init_task(struct tss32 *t, void *eip, unsigned int n, u32 marker)
{
	*t = (struct tss32){
		.cr3 = read_cr3(), .eip = (u32)eip, .eflags = 0x2,
		.eax = marker | 1, .ecx = marker | 2, .edx = marker | 3, .ebx = marker | 4,
		.esp = (u32)(stacks[n] + sizeof(stacks[n])), .ebp = marker | 6,
		.esi = marker | 7, .edi = marker | 8,
		.es = SEL_KDATA, .cs = SEL_KCODE, .ss = SEL_KDATA, .ds = SEL_KDATA,
		.iomap = sizeof(*t),
	};
}

static void set_idt_task_gate(u64 *idt, int vec, u16 tss_sel)
{
	idt[vec] = ((u64)tss_sel << 16) | (0x85ull << 40); /* present, DPL 0, task gate */
}

static u64 *idt_base(void)
{
	struct {
		u16 pad, limit;
		u32 base;
	} __packed __aligned(4) d;

	__asm__ volatile("sidt %0" : "=m"(d.limit));
	return (u64 *)d.base;
}

static void setup(void)
{
	for (int i = 0; i < 7; i++)
		gdt2[i] = gdt[i];
	init_task(&tss_b, task_b, 0, 0xb0000000);
	init_task(&tss_c, task_c, 1, 0xc0000000);
	init_task(&tss_d, task_d, 2, 0xd0000000);
	init_task(&tss_e, task_e, 3, 0xe0000000);
	init_task(&tss_f, task_f, 4, 0xf0000000);
	init_task(&tss_n, task_n, 5, 0x90000000);
	init_task(&tss_t, task_t, 6, 0x70000000);
	tss_t.trap = 1;
	tss_b.fs = SEL_KDATA; /* the others leave FS null */
	tss_b.eflags |= BIT(15); /* reserved: loaded as 0 */
	gdt2[SEL_TSS_B / 8] = tss_desc(&tss_b);
	gdt2[SEL_TSS_C / 8] = tss_desc(&tss_c);
	gdt2[SEL_TSS_D / 8] = tss_desc(&tss_d);
	gdt2[SEL_TSS_E / 8] = tss_desc(&tss_e);
	gdt2[SEL_GATE_C / 8] = ((u64)SEL_TSS_C << 16) | (0x85ull << 40);
	gdt2[SEL_TSS_X / 8] = tss_desc_at(BAD_TSS_BASE);
	gdt2[SEL_TSS_F / 8] = tss_desc(&tss_f);
	gdt2[SEL_TSS_N / 8] = tss_desc(&tss_n);
	gdt2[SEL_TSS_T / 8] = tss_desc(&tss_t);
	gdt2_desc.limit = sizeof(gdt2) - 1;
	gdt2_desc.base = (u32)gdt2;
	__asm__ volatile("lgdt %0" ::"m"(gdt2_desc.limit) : "memory");
	a_tss = (struct tss32 *)desc_base(gdt2[SEL_TSS / 8]);
	set_idt_task_gate(idt_base(), TASK_VECTOR, SEL_TSS_D);
}

static void clts(void)
{
	__asm__ volatile("clts");
}

/* A's registers after a switch back: the markers (ESP is the stack's). */
static void check_a_regs(const char *what)
{
	static const int idx[] = { 0, 1, 2, 4, 5, 6, 7 }; /* pushal: edi esi ebp - ebx edx ecx eax */
	static const u32 want[] = { 0xa0000008, 0xa0000007, 0xa0000006, 0xa0000004,
				    0xa0000003, 0xa0000002, 0xa0000001 };
	bool ok = true;

	for (unsigned int i = 0; i < ARRAY_SIZE(idx); i++)
		ok &= a_regs[idx[i]] == want[i] ||
		      (want[i] == 0xa0000001 && a_regs[idx[i]] == 0x1000);
	tap_check(ok, "%s: task A's registers came back from its TSS", what);
}

static void check_task_regs(const struct seen *s, u32 marker, const char *name)
{
	static const u32 want_lo[] = { 8, 7, 6, 0, 4, 3, 2, 1 };
	bool ok = true;

	for (int i = 0; i < 8; i++)
		if (i != 3)
			ok &= s->regs[i] == (marker | want_lo[i]);
	tap_check(ok, "%s: its registers are its TSS's (eax %#x, edi %#x)", name, s->regs[7],
		  s->regs[0]);
}

static void check_jmp(void)
{
	u32 dr7;

	clts();
	/* Breakpoints on an address never run: only the enables matter. */
	write_dr0(0xfffffff0u);
	write_dr1(0xfffffff0u);
	write_dr7(DR7_TEST);
	run_jmp();
	dr7 = read_dr7();
	write_dr7(DR7_FIXED);
	switches += 2;
	tap_eq(seen_b.ran, 1, "jmp: task B ran once");
	tap_check(!(seen_b.eflags & BIT(15)), "jmp: reserved EFLAGS bit 15 of B's TSS not loaded (EFLAGS %#x)",
		  seen_b.eflags);
	tap_eq(seen_b.dr7 & (DR7_LOCAL | 2), 2, "jmp: DR7 in B: L0, L1 cleared, G0 kept (%#x)",
	       seen_b.dr7);
	tap_eq(dr7 & DR7_LOCAL, 0, "jmp: DR7 local enables still clear back in A (%#x)", dr7);
	check_task_regs(&seen_b, 0xb0000000, "jmp: task B");
	tap_eq(seen_b.tr, SEL_TSS_B, "jmp: TR is B's TSS in B");
	tap_eq(seen_b.cs | seen_b.ss << 16, SEL_KCODE | SEL_KDATA << 16, "jmp: B's CS, SS from its TSS");
	tap_eq(seen_b.fs, SEL_KDATA, "jmp: B's FS from its TSS");
	tap_check(!(seen_b.eflags & EFLAGS_NT), "jmp: NT clear in B (EFLAGS %#x)", seen_b.eflags);
	tap_check(seen_b.cr0 & CR0_TS, "jmp: CR0.TS set in B");
	tap_eq(hi_access(seen_b.own_hi), TYPE_BUSY, "jmp: B's TSS busy in B");
	tap_eq(hi_access(seen_b.a_hi), TYPE_AVAIL, "jmp: A's TSS available in B (JMP)");
	tap_eq(tss_b.link, 0, "jmp: no back link in B's TSS");
	tap_eq(a_tss->eip, (u32)a_after_jmp, "jmp: A's TSS holds the EIP past the LJMP");
	tap_eq(a_tss->esi, 0xa0000007, "jmp: A's TSS holds A's ESI");
	check_a_regs("jmp");
	tap_eq(tss_b.eip, (u32)b_after_jmp, "jmp: B's TSS holds the EIP past B's LJMP");
	tap_eq(desc_access(gdt2[SEL_TSS_B / 8]), TYPE_AVAIL, "jmp: B's TSS available after");
	tap_eq(desc_access(gdt2[SEL_TSS / 8]), TYPE_BUSY, "jmp: A's TSS busy after");
	tap_check(read_cr0() & CR0_TS, "jmp: CR0.TS set back in A");
}

static void check_call(void)
{
	u32 eflags;

	clts();
	run_call();
	switches += 2;
	__asm__ volatile("pushfl; popl %0" : "=r"(eflags));
	tap_eq(seen_c.ran, 1, "call: task C ran once");
	check_task_regs(&seen_c, 0xc0000000, "call: task C");
	tap_eq(seen_c.tr, SEL_TSS_C, "call: TR is C's TSS in C");
	tap_check(seen_c.eflags & EFLAGS_NT, "call: NT set in C (EFLAGS %#x)", seen_c.eflags);
	tap_eq(seen_c.fs, 0, "call: C's null FS");
	tap_eq(tss_c.link, SEL_TSS, "call: C's back link is A's TSS");
	tap_eq(hi_access(seen_c.own_hi), TYPE_BUSY, "call: C's TSS busy in C");
	tap_eq(hi_access(seen_c.a_hi), TYPE_BUSY, "call: A's TSS stays busy in C (CALL)");
	tap_check(seen_c.cr0 & CR0_TS, "call: CR0.TS set in C");
	tap_eq(a_tss->eip, (u32)a_after_call, "call: A's TSS holds the EIP past the LCALL");
	check_a_regs("call");
	tap_eq(desc_access(gdt2[SEL_TSS_C / 8]), TYPE_AVAIL, "iret: C's TSS available after");
	tap_eq(desc_access(gdt2[SEL_TSS / 8]), TYPE_BUSY, "iret: A's TSS busy after");
	tap_eq(tss_c.eip, (u32)c_after_iret, "iret: C's TSS holds the EIP past the IRET");
	tap_check(!(tss_c.eflags & EFLAGS_NT), "iret: NT clear in C's saved EFLAGS (%#x)",
		  tss_c.eflags);
	tap_check(!(eflags & EFLAGS_NT), "iret: NT clear in A after (EFLAGS %#x)", eflags);
	tap_check(read_cr0() & CR0_TS, "iret: CR0.TS set back in A");
}

static void check_int(void)
{
	clts();
	run_int();
	switches += 2;
	tap_eq(seen_d.ran, 1, "int 0x81: task D ran once");
	check_task_regs(&seen_d, 0xd0000000, "int 0x81: task D");
	tap_check(seen_d.eflags & EFLAGS_NT, "int 0x81: NT set in D (EFLAGS %#x)", seen_d.eflags);
	tap_eq(tss_d.link, SEL_TSS, "int 0x81: D's back link is A's TSS");
	tap_eq(seen_d.regs[3], (u32)(stacks[2] + sizeof(stacks[2])),
	       "int 0x81: nothing pushed on D's stack");
	tap_eq(a_tss->eip, (u32)a_after_int, "int 0x81: A's TSS holds the EIP past the INT");
	check_a_regs("int 0x81");
	tap_eq(desc_access(gdt2[SEL_TSS_D / 8]), TYPE_AVAIL, "int 0x81: D's TSS available after");
}

static void check_gp(void)
{
	u64 *idt = idt_base(), saved = idt[VEC_GP];

	set_idt_task_gate(idt, VEC_GP, SEL_TSS_E);
	clts();
	run_gp();
	idt[VEC_GP] = saved;
	switches += 2;
	tap_eq(seen_e.ran, 1, "#GP: task E ran once");
	tap_eq(seen_e.err, BAD_SEL, "#GP: error code on E's stack");
	tap_eq(seen_e.regs[3], (u32)(stacks[3] + sizeof(stacks[3])) - 4,
	       "#GP: E's ESP is its TSS's less the error code");
	tap_check(seen_e.eflags & EFLAGS_NT, "#GP: NT set in E (EFLAGS %#x)", seen_e.eflags);
	tap_eq(tss_e.link, SEL_TSS, "#GP: E's back link is A's TSS");
	tap_eq(seen_e.tr, SEL_TSS_E, "#GP: TR is E's TSS in E");
	tap_eq(seen_e.a_eip, (u32)a_gp_insn, "#GP: A's TSS held the EIP of the faulting MOV");
	tap_eq(hi_access(seen_e.own_hi), TYPE_BUSY, "#GP: E's TSS busy in E");
	tap_eq(a_tss->eax, BAD_SEL, "#GP: A's TSS holds A's EAX at the fault");
	check_a_regs("#GP");
}

/* #PF through a task gate to a TSS whose page is not present: reading the
 * TSS faults (#PF while delivering #PF), a #DF, which goes through its own
 * task gate to task F. 32-bit paging, 4 MiB pages, identity but for the
 * 4 MiB at BAD_TSS_BASE. */
static void check_df(void)
{
	u64 *idt = idt_base(), saved_pf = idt[VEC_PF], saved_df = idt[VEC_DF];
	u32 cr0 = read_cr0(), a_cr3 = a_tss->cr3;

	for (u32 i = 0; i < 1024; i++)
		pd[i] = (i << 22) | PG_PRESENT_RW_4M;
	pd[BAD_TSS_BASE >> 22] = 0;
	tss_f.cr3 = a_tss->cr3 = (u32)pd;
	seen_f.err = 0xffffffff;
	set_idt_task_gate(idt, VEC_PF, SEL_TSS_X);
	set_idt_task_gate(idt, VEC_DF, SEL_TSS_F);
	write_cr4(read_cr4() | CR4_PSE_BIT);
	write_cr3((u32)pd);
	clts();
	write_cr0(cr0 | CR0_PG_BIT);
	run_df();
	write_cr0(cr0);
	idt[VEC_PF] = saved_pf;
	idt[VEC_DF] = saved_df;
	a_tss->cr3 = a_cr3;
	switches += 3; /* the one to X faults before its commit point */
	tap_eq(seen_f.ran, 1, "#PF in #PF task switch: task F (#DF) ran once");
	tap_eq(seen_f.err, 0, "#DF: error code 0 on F's stack");
	tap_eq(seen_f.tr, SEL_TSS_F, "#DF: TR is F's TSS in F");
	tap_eq(tss_f.link, SEL_TSS, "#DF: F's back link is A's TSS");
	tap_eq(seen_f.a_eip, (u32)a_df_insn, "#DF: A's TSS held the EIP of the faulting MOV");
	/* Which field the CPU reads first differs: Bochs the start, QEMU CR3. */
	tap_check(seen_f.cr2 - BAD_TSS_BASE < sizeof(struct tss32),
		  "#DF: CR2 is in the TSS that faulted (%#x)", seen_f.cr2);
	tap_eq(desc_access(gdt2[SEL_TSS_X / 8]), TYPE_AVAIL, "#DF: the unreadable TSS stays available");
	tap_eq(desc_access(gdt2[SEL_TSS_F / 8]), TYPE_AVAIL, "#DF: F's TSS available after");
}

static u32 wait_ran(const struct seen *s, u32 n)
{
	for (u32 i = 0; i < 10000000 && *(volatile const u32 *)&s->ran < n; i++)
		__asm__ volatile("pause");
	return *(volatile const u32 *)&s->ran;
}

/* Two NMIs to itself, each through the IDT task gate to task N, which
 * IRETs back: that IRET ends NMI blocking, so the second one comes.
 * (Bochs 2.7 ends virtual-NMI blocking when the IRET starts, before its
 * task-switch exit: there this passes whether lamina ends it or not.) */
void n_send_nmi(void);
void n_send_nmi(void)
{
	apic_send_ipi(apic_self_id(), ICR_NMI | ICR_ASSERT);
}

/* A present DPL-0 32-bit interrupt gate to handler. */
static u64 interrupt_gate(const void *handler)
{
	u32 h = (u32)handler;

	return (h & 0xffff) | ((u64)SEL_KCODE << 16) | (0x8eull << 40) | ((u64)(h >> 16) << 48);
}

/* An NMI that N sends itself waits for N's IRET back to A, then runs N
 * again. Under lamina on AMD-V the IRET is single-stepped to catch that
 * moment, and the switch saves EFLAGS into N's TSS: no TF of lamina's may
 * stay there, nor reach N or a #DB handler. */
static void check_nmi_in_nmi_task(void)
{
	u64 *idt = idt_base(), saved = idt[VEC_DB];
	u32 db0 = db_count;

	idt[VEC_DB] = interrupt_gate(db_handler);
	n_self_nmi = 1;
	apic_send_ipi(apic_self_id(), ICR_NMI | ICR_ASSERT);
	tap_eq(wait_ran(&seen_n, 4), 4, "nmi: an NMI task N sent itself ran N again after its IRET");
	idt[VEC_DB] = saved;
	tap_eq(tss_n.eflags & RFLAGS_TF, 0, "nmi: no TF in N's TSS after (EFLAGS %#x)", tss_n.eflags);
	tap_eq(seen_n.eflags & RFLAGS_TF, 0, "nmi: N ran without TF");
	tap_eq(db_count, db0, "nmi: no #DB");
}

#define TSS_ALIAS 0x40000000u /* PDE 256: where N's TSS is seen */
#define DECOY 0x03000000u     /* 48 MiB: what A's PDE 256 turns to */

extern char nmi_counter[];
void n_prepare_decoy(void);

/* In N, before its IRET: A's page tables now map N's TSS alias to the
 * decoy, and the NMI N sends itself comes through an interrupt gate (the
 * task gate would read N's TSS through A's tables). */
void n_prepare_decoy(void)
{
	pd[TSS_ALIAS >> 22] = DECOY | PG_PRESENT_RW_4M;
	idt_base()[VEC_NMI] = interrupt_gate(nmi_counter);
	n_decoy = 0;
	n_self_nmi = 1;
}

/* N's IRET back to A saves N's EFLAGS through N's page tables (the CPU
 * loads A's CR3 after): with 32-bit paging, N's TSS at an alias that A's
 * tables map to it when the NMI switches to N and to a decoy by the time
 * N IRETs. The TF lamina's single step of that IRET left must be cleared
 * where N's tables put the TSS. */
static void check_nmi_tss_cr3(void)
{
	u64 saved_desc = gdt2[SEL_TSS_N / 8];
	u32 cr0 = read_cr0(), a_cr3 = a_tss->cr3, n_cr3 = tss_n.cr3;
	u32 page = (u32)&tss_n & ~0x3fffffu, alias = TSS_ALIAS + ((u32)&tss_n & 0x3fffff);

	for (u32 i = 0; i < 1024; i++)
		pd[i] = pd_n[i] = (i << 22) | PG_PRESENT_RW_4M;
	pd[TSS_ALIAS >> 22] = pd_n[TSS_ALIAS >> 22] = page | PG_PRESENT_RW_4M;
	gdt2[SEL_TSS_N / 8] = tss_desc_at(alias);
	tss_n.cr3 = (u32)pd_n;
	a_tss->cr3 = (u32)pd;
	nmi_count = 0;
	n_decoy = 1;
	tss_n.eip = (u32)task_n;
	write_cr4(read_cr4() | CR4_PSE_BIT);
	write_cr3((u32)pd);
	clts();
	write_cr0(cr0 | CR0_PG_BIT);
	apic_send_ipi(apic_self_id(), ICR_NMI | ICR_ASSERT);
	for (u32 i = 0; i < 10000000 && !*(volatile u32 *)&nmi_count; i++)
		__asm__ volatile("pause");
	write_cr0(cr0);
	gdt2[SEL_TSS_N / 8] = saved_desc;
	tss_n.cr3 = n_cr3;
	a_tss->cr3 = a_cr3;
	tap_eq(nmi_count, 1, "nmi: the NMI N sent itself came after its IRET to A");
	tap_eq(tss_n.eip, (u32)n_after_iret,
	       "nmi: N's IRET saved N's state through N's page tables (EIP past its IRET)");
	tap_eq(tss_n.eflags & RFLAGS_TF, 0,
	       "nmi: no TF in N's TSS, which N's page tables map elsewhere than A's (EFLAGS %#x)",
	       tss_n.eflags);
}

static void check_nmi(void)
{
	u64 *idt = idt_base(), saved = idt[VEC_NMI];

	if (!apic_init()) {
		tap_skip("APIC off", "nmi: NMIs through a task gate");
		return;
	}
	set_idt_task_gate(idt, VEC_NMI, SEL_TSS_N);
	clts();
	apic_send_ipi(apic_self_id(), ICR_NMI | ICR_ASSERT);
	tap_eq(wait_ran(&seen_n, 1), 1, "nmi: task N ran for the first NMI");
	apic_send_ipi(apic_self_id(), ICR_NMI | ICR_ASSERT);
	tap_eq(wait_ran(&seen_n, 2), 2, "nmi: task N ran for the second NMI (IRET ended NMI blocking)");
	check_nmi_in_nmi_task();
	check_nmi_tss_cr3();
	idt[VEC_NMI] = saved;
	tap_eq(tss_n.link, SEL_TSS, "nmi: N's back link is A's TSS");
	tap_eq(desc_access(gdt2[SEL_TSS_N / 8]), TYPE_AVAIL, "nmi: N's TSS available after");
	switches += 2 * seen_n.ran;
}

/* A JMP to task T, whose TSS has the T bit: #DB (DR6.BT) in T, at its
 * first instruction, once; then T runs. */
static void check_t_bit(void)
{
	u64 *idt = idt_base(), saved = idt[VEC_DB];

	if (!boot_opt_num("t_bit", 0)) {
		tap_skip("QEMU ignores it", "T bit: #DB after the switch to a TSS with T set");
		return;
	}
	idt[VEC_DB] = interrupt_gate(db_handler);
	write_dr6(DR6_INIT);
	clts();
	run_t();
	idt[VEC_DB] = saved;
	switches += 2;
	tap_eq(t_ran, 1, "T bit: task T ran once");
	tap_eq(db_count, 1, "T bit: one #DB");
	check_dr6(db_dr6, DR6_BT, DR6_BT, "T bit");
	tap_eq(db_eip, (u32)task_t, "T bit: the #DB came before T's first instruction");
	tap_eq(db_tr, SEL_TSS_T, "T bit: the #DB came in task T");
}

static void check_exits(void)
{
	struct hc_regs r = { .eax = LAMINA_HC_VERSION };
	u64 n = 0;

	if (!lamina_present() || hc_call(&r) != TRAP_NONE) {
		kprintf("# not under lamina: no exit counts\n");
		return;
	}
	if (!hc_exit_count(0, LAMINA_EXIT_TASK_SWITCH, &n))
		n = ~0ull;
	if (r.edx == LAMINA_VENDOR_INTEL_VMX)
		tap_eq(n, switches, "VT-x: lamina emulated the %llu task switches",
		       (unsigned long long)switches);
	else
		tap_eq(n, 0, "AMD-V: the CPU ran the task switches (no exits)");
}

void test_main(void)
{
	setup();
	check_jmp();
	check_call();
	check_int();
	check_gp();
	check_df();
	check_nmi();
	check_t_bit();
	clts();
	check_exits();
}
