/* Per-CPU state of lamina. Each CPU finds its own through GS. */
#ifndef CORE_CPU_H
#define CORE_CPU_H

#include <core/types.h>

#define MAX_CPUS 64

struct vcpu;
struct arch_cpu;

struct cpu {
	struct cpu *self;     /* at %gs:0, so this_cpu() is one load */
	u32 index;            /* 0 is the boot CPU */
	u32 apic_id;
	volatile bool online; /* running lamina's code */
	volatile bool nmi_pending; /* an NMI lamina took that belongs to the guest */
	volatile bool kicked;      /* lamina sent it an NMI to make it exit */
	volatile u32 wakes;        /* VECTOR_WAKE interrupts it took (core/smp.c) */
	struct vcpu *vcpu;
	u64 stack_top;
	struct arch_cpu *arch;
};

extern struct cpu *cpus[MAX_CPUS];
extern unsigned int cpu_count;

#ifdef HOST_TEST
unsigned int this_cpu_index(void);
struct cpu *this_cpu(void); /* declared for inline users; host tests lack it */
#else
static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

static inline unsigned int this_cpu_index(void)
{
	return this_cpu()->index;
}
#endif

#endif
