/* Per-CPU descriptor tables: a GDT with a TSS whose IST stacks take NMIs,
 * double faults and machine checks, one shared IDT, GS -> struct cpu. */
#include <core/mm.h>
#include <core/panic.h>
#include <core/string.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>

struct cpu *cpus[MAX_CPUS];
unsigned int cpu_count = 1;

static struct cpu bsp_cpu;
static struct arch_cpu bsp_arch;

struct idt_entry {
	u16 off0, sel;
	u8 ist, type;
	u16 off1;
	u32 off2, reserved;
} __packed;

static struct idt_entry idt[256] __aligned(16);
/* The same but for vectors 0-31, loaded only in halt_for_interrupt. */
static struct idt_entry halt_idt[256] __aligned(16);
extern const u64 isr_stubs[256], isr_halt_stubs[32];

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

/* What isr_common loads while a handler runs (arch/x86/isr.S). */
struct desc_ptr idt_normal = { sizeof(idt) - 1, 0 };

__noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void set_gs_base(struct cpu *c)
{
	wrmsr(MSR_GS_BASE, (uintptr_t)c);
}

void arch_cpu_early_bsp(void)
{
	extern char boot_stack_top[];

	bsp_cpu.self = &bsp_cpu;
	bsp_cpu.stack_top = (uintptr_t)boot_stack_top;
	bsp_cpu.online = true;
	bsp_cpu.arch = &bsp_arch;
	cpus[0] = &bsp_cpu;
	set_gs_base(&bsp_cpu);
}

static struct idt_entry gate(u64 a, u8 ist)
{
	return (struct idt_entry){
		.off0 = a & 0xffff, .sel = GDT_CODE, .ist = ist,
		.type = 0x8e, /* present, DPL 0, interrupt gate */
		.off1 = (a >> 16) & 0xffff, .off2 = a >> 32,
	};
}

void idt_init(void)
{
	idt_normal.base = (uintptr_t)idt;
	for (unsigned int v = 0; v < 256; v++) {
		u8 ist = v == 2 ? IST_NMI : v == 8 ? IST_DF : v == 18 ? IST_MC : 0;

		idt[v] = gate(isr_stubs[v], ist);
		/* An NMI is what it is, halted or not. A machine check
		 * pushes no error code: its halt stub tells it from a fixed
		 * interrupt or ExtINT on 18, on the same stack. */
		halt_idt[v] = v < 32 && v != 2 ? gate(isr_halt_stubs[v], ist) : idt[v];
	}
}

/* Halt until an interrupt: the one place lamina takes interrupts. While
 * halted no exception can arise, but an interrupt can come on any vector:
 * the local APIC delivers fixed ones from 16, an ExtINT (from an I/O APIC
 * entry or MSI the guest programmed) carries its 8259's vector. The CPU
 * pushes no error code for them, so vectors 0-31 need stubs that expect
 * none, and only for as long as the halt lasts. */
void halt_for_interrupt(void)
{
	struct desc_ptr halted = { sizeof(halt_idt) - 1, (uintptr_t)halt_idt };

	__asm__ volatile("lidt %0; sti; hlt; cli; lidt %1" ::"m"(halted), "m"(idt_normal)
			 : "memory");
}

static void load_tables(struct arch_cpu *a)
{
	struct desc_ptr gdtr = { sizeof(a->gdt) - 1, (uintptr_t)a->gdt };

	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	/* Reload CS through a far return, then the data segments. */
	__asm__ volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
			 ::"i"(GDT_CODE) : "rax", "memory");
	__asm__ volatile("movl %0, %%ds; movl %0, %%es; movl %0, %%ss;"
			 "xorl %%eax, %%eax; movl %%eax, %%fs; movl %%eax, %%gs"
			 ::"r"(GDT_DATA) : "rax");
	__asm__ volatile("ltr %w0" ::"r"(GDT_TSS));
	__asm__ volatile("lidt %0" ::"m"(idt_normal));
}

void arch_cpu_init(struct cpu *c)
{
	struct arch_cpu *a = c->arch;
	u64 tss = (uintptr_t)&a->tss;

	a->gdt[0] = 0;
	a->gdt[1] = 0x00af9a000000ffffull; /* 64-bit code */
	a->gdt[2] = 0x00cf92000000ffffull; /* data */
	a->gdt[3] = (sizeof(a->tss) - 1) | ((tss & 0xffffff) << 16) |
		    (0x89ull << 40) | (((tss >> 24) & 0xff) << 56);
	a->gdt[4] = tss >> 32;
	a->tss.iomap_base = sizeof(a->tss); /* no I/O bitmap */
	for (int i = 0; i < 3; i++) {
		if (!a->ist_stack[i])
			a->ist_stack[i] = page_alloc(1);
		if (!a->ist_stack[i])
			panic("out of memory for exception stacks");
		a->tss.ist[i] = (uintptr_t)a->ist_stack[i] + IST_STACK_SIZE;
	}
	load_tables(a);
	set_gs_base(c);
	/* Without CR4.MCE a machine check shuts the CPU down unreported. */
	if (cpu_has(1, CPUID_EDX, 7))
		write_cr4(read_cr4() | CR4_MCE);
}

struct cpu *arch_cpu_alloc(unsigned int index, u32 apic_id)
{
	struct cpu *c = kzalloc(sizeof(*c));
	struct arch_cpu *a = kzalloc(sizeof(*a));
	void *stack = page_alloc(2); /* CPU_STACK_SIZE */

	if (!c || !a || !stack)
		panic("out of memory for CPU %u", index);
	c->self = c;
	c->index = index;
	c->apic_id = apic_id;
	c->arch = a;
	c->stack_top = (uintptr_t)stack + CPU_STACK_SIZE;
	return c;
}
