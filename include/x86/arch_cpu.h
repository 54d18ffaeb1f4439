/* x86 per-CPU state of lamina itself: descriptor tables and the stacks
 * exceptions switch to. */
#ifndef X86_ARCH_CPU_H
#define X86_ARCH_CPU_H

#include <core/cpu.h>

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

#define IST_NMI 1
#define IST_DF 2
#define IST_MC 3
#define IST_STACK_SIZE 8192

#define GDT_CODE 0x08
#define GDT_DATA 0x10
#define GDT_TSS 0x18

struct arch_cpu {
	u64 gdt[5]; /* null, code, data, TSS (two slots) */
	struct tss64 tss;
	u8 *ist_stack[3];
};

/* Registers saved by the interrupt entry code. */
struct irq_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

/* lamina's own interrupt vectors (never used while the guest runs). */
#define VECTOR_WAKE 0xf0
#define VECTOR_SPURIOUS 0xff

void arch_cpu_early_bsp(void);
/* Descriptor tables, GS, IST stacks for CPU c (on that CPU). */
void arch_cpu_init(struct cpu *c);
struct cpu *arch_cpu_alloc(unsigned int index, u32 apic_id);

__noreturn void halt_forever(void);
void idt_init(void);
/* sti; hlt; cli, taking whatever interrupt wakes the CPU as one. */
void halt_for_interrupt(void);
/* An NMI reached lamina: halt if a fatal error is being reported, else
 * mark it pending for the guest (this_cpu()->nmi_pending). */
void nmi_handle(void);

#endif
