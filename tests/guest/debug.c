/* debug: debug exceptions (#DB) and alignment checks (#AC), which lamina
 * intercepts so that a guest cannot hold its CPU in an endless chain of
 * them, and gives back as they came. Each must look as on bare hardware:
 *  - single step: RFLAGS.TF set by POPF traps after the next instruction,
 *    with DR6.BS;
 *  - data breakpoints in DR0, on a write and on a read: a trap after the
 *    access, with DR6.B0 (B1-B3 clear: each #DB replaces them);
 *  - an instruction breakpoint in DR1: a fault at the instruction, B1;
 *  - general detect (DR7.GD): a MOV to DR0 faults at itself with DR6.BD,
 *    and GD is clear when the handler runs, so that it may read DR7;
 *  - INT1 (ICEBP): a trap after it; B0-B3 and BS stay as they were;
 *  - CR0.AM with RFLAGS.AC: a misaligned load in ring 3 raises #AC(0) at
 *    it, and none in ring 0.
 * QEMU's CPU has no general detect, no INT1 (#UD) and no alignment
 * checks: those run only with the options gd=1, int1=1 and ac=1. Bochs
 * 2.7 with AMD-V takes the #DB intercept before it writes DR6 and clears
 * DR7.GD, which AMD's CPUs (and QEMU) do first: with stale_dr6=1 the DR6
 * checks and general detect are skipped (check_dr6 in lib/trap.c).
 * Under lamina each #DB and #AC is one exception exit on this CPU
 * (EXIT_COUNT), and nothing else is; INT1 only on VT-x.
 *
 * Option ac_loop (under lamina, with a second CPU): that CPU raises #AC
 * in ring 3 on a misaligned stack, with the #AC handler's code segment
 * conforming, so that delivering the #AC pushes onto the same stack and
 * raises #AC again, forever (CVE-2015-5307). Each one must be an exit:
 * the count keeps growing, and lamina goes on answering hypercalls. */
#include "acpi.h"
#include "ap.h"
#include "boot.h"
#include "apic.h"
#include "cpu.h"
#include "desc.h"
#include "hc.h"
#include "print.h"
#include "tap.h"
#include "timer.h"
#include "trap.h"
#include "util.h"

const char test_name[] = "debug";
const char *const test_options[] = { "gd", "int1", "ac", "stale_dr6", "ac_loop", NULL };

#define VEC_AC 17
#define CR0_AM BIT(18)
#define DR7_FIXED 0x400u
#define DR7_L0 BIT(0)
#define DR7_L1 BIT(2)
#define DR7_RW0_WRITE (1u << 16)
#define DR7_RW0_RW (3u << 16)
#define DR7_LEN0_4 (3u << 18)
#define DR6_B0 BIT(0)
#define DR6_B1 BIT(1)
#define DR6_B2 BIT(2)

extern const char dbg_ss_next[], dbg_dw_next[], dbg_dr_next[], dbg_ib_at[],
	dbg_gd_at[], dbg_int1_next[], dbg_ac_at[];

static volatile u32 watched __aligned(8);
static volatile u32 unaligned_buf[2];
static unsigned int traps; /* #DB and #AC the checks raised */

static void counted(int vector)
{
	if (vector == VEC_DB || vector == VEC_AC)
		traps++;
}

/* DR6 as the probe left it; then DR6 as after reset again. */
static u32 dr6_after(void)
{
	u32 dr6 = read_dr6();

	write_dr6(DR6_INIT);
	return dr6;
}

/* After a probe: it raised #DB at (or after) `eip`, with DR6 bits
 * `mask` equal to `want`; DR6 is as after reset again. */
static void check_db(const char *what, const char *eip, u32 mask, u32 want)
{
	u32 dr6 = dr6_after();

	counted(trap_vector);
	tap_vec(trap_vector, VEC_DB, "%s: #DB", what);
	tap_eq(trap_eip, (u32)eip, "%s: #DB at 0x%x", what, (u32)eip);
	check_dr6(dr6, mask, want, what);
}

static void check_single_step(void)
{
	write_dr6(DR6_INIT);
	__asm__ volatile(PROBE("pushfl; orl $0x100, (%%esp); popfl; nop\n"
			       ".globl dbg_ss_next\ndbg_ss_next: nop; nop") ::: "memory", "cc");
	check_db("single step (after the instruction past POPF)", dbg_ss_next,
		 DR6_BS | DR6_BREAKPOINTS, DR6_BS);
}

static void check_data_breakpoints(void)
{
	write_dr0((u32)&watched);
	write_dr6(DR6_INIT | DR6_B1 | DR6_B2); /* left over: the #DB replaces them */
	write_dr7(DR7_FIXED | DR7_L0 | DR7_RW0_WRITE | DR7_LEN0_4);
	__asm__ volatile(PROBE("movl $5, watched\n.globl dbg_dw_next\ndbg_dw_next: nop")
			 ::: "memory");
	check_db("data breakpoint on a write (after the store)", dbg_dw_next,
		 DR6_BREAKPOINTS | DR6_BS, DR6_B0);
	tap_eq(watched, 5, "data breakpoint on a write: the store happened");

	u32 val = 0;

	write_dr7(DR7_FIXED | DR7_L0 | DR7_RW0_RW | DR7_LEN0_4);
	__asm__ volatile(PROBE("movl watched, %0\n.globl dbg_dr_next\ndbg_dr_next: nop")
			 : "+r"(val) :: "memory");
	write_dr7(DR7_FIXED);
	check_db("data breakpoint on a read (after the load)", dbg_dr_next,
		 DR6_BREAKPOINTS | DR6_BS, DR6_B0);
	tap_eq(val, 5, "data breakpoint on a read: the load happened");
}

static void check_instruction_breakpoint(void)
{
	write_dr1((u32)dbg_ib_at);
	write_dr6(DR6_INIT);
	write_dr7(DR7_FIXED | DR7_L1);
	__asm__ volatile(PROBE("nop\n.globl dbg_ib_at\ndbg_ib_at: nop") ::: "memory");
	write_dr7(DR7_FIXED);
	check_db("instruction breakpoint (at the instruction)", dbg_ib_at,
		 DR6_BREAKPOINTS | DR6_BS, DR6_B1);
}

static void check_general_detect(void)
{
	u32 dr7 = 0;

	write_dr6(DR6_INIT);
	write_dr7(DR7_FIXED | DR7_GD);
	__asm__ volatile(PROBE(".globl dbg_gd_at\ndbg_gd_at: movl %0, %%dr0") :: "r"(0)
			 : "memory");
	counted(trap_vector);
	tap_vec(trap_vector, VEC_DB, "general detect: MOV to DR0 raises #DB");
	tap_eq(trap_eip, (u32)dbg_gd_at, "general detect: at the MOV");
	__asm__ volatile(PROBE("movl %%dr7, %0") : "+r"(dr7) :: "memory");
	counted(trap_vector);
	tap_vec(trap_vector, TRAP_NONE, "general detect: GD was cleared: DR7 reads");
	tap_check(!(dr7 & DR7_GD), "general detect: DR7.GD clear (DR7=0x%x)", dr7);
	u32 dr6 = dr6_after();

	check_dr6(dr6, DR6_BD, DR6_BD, "general detect");
	write_dr7(DR7_FIXED);
}

static void check_int1(void)
{
	write_dr6(DR6_INIT | DR6_B2);
	__asm__ volatile(PROBE(".byte 0xf1\n.globl dbg_int1_next\ndbg_int1_next: nop")
			 ::: "memory");
	check_db("INT1 (after it; DR6 as it was)", dbg_int1_next, DR6_BREAKPOINTS | DR6_BS,
		 DR6_B2);
	/* VT-x's exception bitmap covers INT1; AMD-V has an ICEBP intercept
	 * of its own, which lamina leaves off. */
	if (!cpu_is_intel())
		traps--;
}

static volatile int ac_vector;
static volatile u32 ac_error, ac_eip;

/* A load from an odd address with RFLAGS.AC set; AC is clear again after.
 * One copy only: its label is global. */
static __attribute__((noinline)) void misaligned_load(void)
{
	u32 val;

	__asm__ volatile("pushfl; orl %2, (%%esp); popfl\n"
			 PROBE(".globl dbg_ac_at\ndbg_ac_at: movl (%1), %0")
			 "pushfl; andl %3, (%%esp); popfl"
			 : "=&r"(val)
			 : "r"((u8 *)unaligned_buf + 1), "i"(RFLAGS_AC), "i"(~RFLAGS_AC)
			 : "memory", "cc");
	ac_vector = trap_vector;
	ac_error = trap_error;
	ac_eip = trap_eip;
}

static void check_alignment(void)
{
	write_cr0(read_cr0() | CR0_AM);
	ring3_run(misaligned_load);
	counted(ac_vector);
	tap_vec(ac_vector, VEC_AC, "alignment check in ring 3: #AC");
	tap_eq(ac_error, 0, "alignment check in ring 3: error code 0");
	tap_eq(ac_eip, (u32)dbg_ac_at, "alignment check in ring 3: at the load");
	misaligned_load();
	counted(ac_vector);
	tap_vec(ac_vector, TRAP_NONE, "alignment check in ring 0: none");
	write_cr0(read_cr0() & ~CR0_AM);
}

/* The AP of the ac_loop check runs with a GDT that has a conforming
 * ring-0 code segment (which runs at its caller's CPL) and an IDT whose
 * #AC gate leads there. In ring 3, with CR0.AM and RFLAGS.AC, on a stack
 * two bytes off alignment, a PUSH raises #AC; delivering it pushes onto
 * the same stack in ring 3 and raises #AC again, and again. */
#define SEL_CONFORMING 0x38
#define AP_GDT_ENTRIES (SEL_CONFORMING / 8 + 1)
#define CONFORMING_CODE 0x00cf9e000000ffffull
#define GATE_INTR 0x8e
#define AC_LOOP_EXITS 1000
#define AC_LOOP_TIMEOUT_US 20000000ull

struct table_desc {
	u16 pad, limit;
	u32 base;
} __packed __aligned(4);

extern u64 gdt[];
extern const char ac_loop_user[], ac_loop_handler[];
static u64 ap_gdt[AP_GDT_ENTRIES];
static u64 ap_idt[VEC_AC + 1];
static struct table_desc ap_gdt_desc, ap_idt_desc;
static u8 ap_user_stack[64] __aligned(16);
static volatile bool ap_looping;

__asm__(".globl ac_loop_user\nac_loop_user: pushl %eax\n\tjmp ac_loop_user\n"
	".globl ac_loop_handler\nac_loop_handler: jmp ac_loop_handler\n");

static u64 intr_gate(u16 sel, u32 offset)
{
	return (offset & 0xffff) | ((u64)sel << 16) | ((u64)GATE_INTR << 40) |
	       ((u64)(offset >> 16) << 48);
}

static void __noreturn ac_loop_ap(void)
{
	for (int i = 0; i < SEL_CONFORMING / 8; i++)
		ap_gdt[i] = gdt[i];
	ap_gdt[SEL_CONFORMING / 8] = CONFORMING_CODE;
	ap_gdt_desc = (struct table_desc){ 0, sizeof(ap_gdt) - 1, (u32)ap_gdt };
	ap_idt[VEC_AC] = intr_gate(SEL_CONFORMING, (u32)ac_loop_handler);
	ap_idt_desc = (struct table_desc){ 0, sizeof(ap_idt) - 1, (u32)ap_idt };
	__asm__ volatile("lgdt %0; lidt %1" ::"m"(ap_gdt_desc.limit), "m"(ap_idt_desc.limit));
	write_cr0(read_cr0() | CR0_AM);
	ap_looping = true;
	__asm__ volatile("pushl %0; pushl %1; pushl %2; pushl %3; pushl %4; iretl"
			 ::"i"(SEL_UDATA | 3), "r"((u32)ap_user_stack + sizeof(ap_user_stack) - 2),
			 "i"(RFLAGS_AC | 2), "i"(SEL_UCODE | 3), "r"((u32)ac_loop_user));
	halt_forever();
}

/* Polls until `done` or the timeout; false on the timeout. */
static bool wait_for(bool (*done)(void))
{
	u64 t0 = time_us();

	while (!done())
		if (time_us() - t0 > AC_LOOP_TIMEOUT_US)
			return false;
	return true;
}

static u32 loop_cpu;
static u64 loop_exits_target;

static bool ap_is_looping(void)
{
	return ap_looping;
}

static bool loop_exits_reached(void)
{
	u64 n = 0;

	return hc_exit_count(loop_cpu, LAMINA_EXIT_EXCEPTION, &n) && n >= loop_exits_target;
}

static void check_ac_loop(void)
{
	struct acpi_cpus cpus;
	u64 first = 0;
	u32 vector;

	if (!lamina_present())
		return tap_skip("bare: the loop would hold the CPU", "#AC loop");
	if (!tap_check(timer_init() && acpi_find_cpus(&cpus) && cpus.count >= 2 && apic_init(),
		       "#AC loop: timer, MADT with a second CPU, local APIC"))
		return;
	loop_cpu = 1; /* lamina numbers CPUs in MADT order, as acpi_find_cpus */
	vector = ap_tramp_install(ac_loop_ap);
	if (!tap_check(vector && apic_init_sipi_sipi(cpus.apic_id[loop_cpu], 0, vector, 10000, 200),
		       "#AC loop: second CPU started"))
		return;
	if (!tap_check(wait_for(ap_is_looping), "#AC loop: second CPU enters ring 3"))
		return;
	tap_check(hc_exit_count(loop_cpu, LAMINA_EXIT_EXCEPTION, &first),
		  "#AC loop: EXIT_COUNT answers");
	loop_exits_target = first + AC_LOOP_EXITS;
	tap_check(wait_for(loop_exits_reached),
		  "#AC loop: each #AC is an exit (%u more counted), and lamina answers",
		  AC_LOOP_EXITS);
}

void test_main(void)
{
	u64 before = 0, after = 0;
	bool counting;

	hc_init();
	counting = lamina_present() && hc_exit_count(0, LAMINA_EXIT_EXCEPTION, &before);
	check_single_step();
	check_data_breakpoints();
	check_instruction_breakpoint();
	if (boot_opt_num("gd", 0) && !dr6_is_stale())
		check_general_detect();
	else
		tap_skip("no gd=1, or stale_dr6=1", "general detect");
	if (boot_opt_num("int1", 0))
		check_int1();
	else
		tap_skip("no int1=1", "INT1");
	if (boot_opt_num("ac", 0))
		check_alignment();
	else
		tap_skip("no ac=1", "alignment checks");
	if (!lamina_present())
		tap_skip("bare", "each #DB and #AC is an exception exit");
	else if (tap_check(counting && hc_exit_count(0, LAMINA_EXIT_EXCEPTION, &after),
			   "EXIT_COUNT of exception exits answers"))
		tap_eq(after - before, traps, "each #DB and #AC was one exception exit");
	if (boot_opt_num("ac_loop", 0))
		check_ac_loop();
	tap_done();
}
