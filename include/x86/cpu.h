/* Single x86 instructions lamina needs, as inline functions: those of
 * 64-bit code here, those of any mode in x86/cpu_base.h. */
#ifndef X86_CPU_H
#define X86_CPU_H

#include <x86/cpu_base.h>

/* RDMSR/WRMSR that return -1 instead of faulting (for MSRs the guest asks
 * for and lamina forwards; see arch/x86/extable.c). */
int rdmsr_safe(u32 msr, u64 *v);
int wrmsr_safe(u32 msr, u64 v);
int xsetbv_safe(u32 index, u64 v);

#define DEFINE_CR_ACCESS(n)                                              \
	static inline u64 read_cr##n(void)                               \
	{                                                                \
		u64 v;                                                   \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));        \
		return v;                                                \
	}                                                                \
	static inline void write_cr##n(u64 v)                            \
	{                                                                \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); \
	}
DEFINE_CR_ACCESS(0)
DEFINE_CR_ACCESS(2)
DEFINE_CR_ACCESS(3)
DEFINE_CR_ACCESS(4)
#undef DEFINE_CR_ACCESS

static inline u64 read_dr6(void)
{
	u64 v;

	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static inline void write_dr6(u64 v)
{
	__asm__ volatile("mov %0, %%dr6" ::"r"(v));
}

static inline u64 read_rflags(void)
{
	u64 v;

	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

/* Halt until an interrupt; interrupts must be enabled to wake. */
static inline void safe_halt(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static inline void invlpg(u64 va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

static inline void flush_tlb_all_local(void)
{
	write_cr3(read_cr3());
}

/* Maximum physical address width (CPUID 0x80000008). */
unsigned int cpu_phys_bits(void);
bool cpu_has_1g_pages(void);

#endif
