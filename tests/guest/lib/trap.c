/* IDT, TSS and the exception dispatcher. */
#include "boot.h"
#include "cpu.h"
#include "desc.h"
#include "print.h"
#include "tap.h"
#include "trap.h"

struct idt_gate {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __packed;

struct tss32 {
	u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u32 es, cs, ss, ds, fs, gs, ldt;
	u16 trap, iomap; /* iomap past the limit: no port I/O in ring 3 */
} __packed;

struct extable_entry {
	u32 start, end;
};

#define GATE_INTR 0x8e      /* present, DPL 0, 32-bit interrupt gate */
#define GATE_INTR_USER 0xee /* the same, callable from ring 3 */

extern const u8 trap_stubs[];
extern void ring3_exit(void);
extern u64 gdt[];
extern const struct extable_entry __extable_start[], __extable_end[];

volatile int trap_vector = TRAP_NONE;
volatile u32 trap_error;
volatile u32 trap_eip;

static struct idt_gate idt[256];
static struct tss32 tss;
static u8 ring0_stack[4096] __aligned(16);
static struct {
	u16 pad, limit;
	u32 base;
} __packed __aligned(4) idt_desc;

static void set_gate(int vec, u32 handler, u8 type)
{
	idt[vec] = (struct idt_gate){ (u16)handler, SEL_KCODE, 0, type,
				      (u16)(handler >> 16) };
}

static u64 tss_descriptor(u32 base, u32 limit)
{
	return (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) |
	       (0x89ull << 40) /* present, available 32-bit TSS */ |
	       ((u64)(limit >> 16) << 48) | ((u64)(base >> 24) << 56);
}

void trap_load_idt(void)
{
	__asm__ volatile("lidt %0" ::"m"(idt_desc.limit));
}

void trap_init(void)
{
	for (int v = 0; v < 32; v++)
		set_gate(v, (u32)(trap_stubs + 16 * v), GATE_INTR);
	set_gate(RING3_EXIT_VECTOR, (u32)ring3_exit, GATE_INTR_USER);
	idt_desc.limit = sizeof(idt) - 1;
	idt_desc.base = (u32)idt;
	trap_load_idt();

	tss.ss0 = SEL_KDATA;
	tss.esp0 = (u32)(ring0_stack + sizeof(ring0_stack));
	tss.iomap = sizeof(tss);
	gdt[GDT_TSS_INDEX] = tss_descriptor((u32)&tss, sizeof(tss) - 1);
	__asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
}

void trap_set_handler(int vector, void (*entry)(void))
{
	set_gate(vector, (u32)entry, GATE_INTR);
}

const char *vector_name(int v)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "#09", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};

	if (v == TRAP_NONE)
		return "no exception";
	if (v >= 0 && v < 32 && names[v])
		return names[v];
	return "#??";
}

static void __noreturn trap_unexpected(struct trap_frame *f)
{
	print_break_lock();
	kprintf("not ok - unexpected exception %s (vector %u, error 0x%x) at "
		"%04x:%08x\n",
		vector_name((int)f->vector), f->vector, f->error, f->cs, f->eip);
	kprintf("#   eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x "
		"ebp=%08x eflags=%08x\n",
		f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp, f->eflags);
	tap_done();
}

void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
	const struct extable_entry *e;

	/* An NMI is never what a probe is looking for. */
	for (e = __extable_start; f->vector != 2 && e < __extable_end; e++) {
		/* <= end: a trap-type exception reports the next instruction. */
		if (f->eip >= e->start && f->eip <= e->end) {
			trap_error = f->error;
			trap_vector = (int)f->vector;
			trap_eip = f->eip;
			f->eip = e->end;
			if (f->vector == VEC_DB)
				f->eflags &= ~RFLAGS_TF;
			return;
		}
	}
	trap_unexpected(f);
}

int rdmsr_probe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;

	__asm__ volatile(PROBE("rdmsr") : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*val = ((u64)hi << 32) | lo;
	return trap_vector;
}

int wrmsr_probe(u32 msr, u64 val)
{
	__asm__ volatile(PROBE("wrmsr")::"c"(msr), "a"((u32)val),
			 "d"((u32)(val >> 32))
			 : "memory");
	return trap_vector;
}

int write_cr0_probe(u32 val)
{
	__asm__ volatile(PROBE("mov %0, %%cr0") ::"r"(val) : "memory");
	return trap_vector;
}

int write_cr4_probe(u32 val)
{
	__asm__ volatile(PROBE("mov %0, %%cr4") ::"r"(val) : "memory");
	return trap_vector;
}

int xsetbv_probe(u32 xcr, u64 val)
{
	__asm__ volatile(PROBE("xsetbv")::"c"(xcr), "a"((u32)val),
			 "d"((u32)(val >> 32))
			 : "memory");
	return trap_vector;
}

int xgetbv_probe(u32 xcr, u64 *val)
{
	u32 lo = 0, hi = 0;

	__asm__ volatile(PROBE("xgetbv") : "+a"(lo), "+d"(hi) : "c"(xcr) : "memory");
	*val = ((u64)hi << 32) | lo;
	return trap_vector;
}

bool dr6_is_stale(void)
{
	return boot_opt_num("stale_dr6", 0) != 0;
}

void check_dr6(u32 dr6, u32 mask, u32 want, const char *what)
{
	if (dr6_is_stale())
		return tap_skip("stale_dr6=1", "%s: DR6", what);
	tap_check((dr6 & mask) == want, "%s: DR6 bits 0x%x are 0x%x (DR6=0x%x)", what, mask,
		  want, dr6);
}
