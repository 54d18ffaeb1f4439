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

DEFINE_MOV_REG_ACCESS(u64, cr0)
DEFINE_MOV_REG_ACCESS(u64, cr2)
DEFINE_MOV_REG_ACCESS(u64, cr3)
DEFINE_MOV_REG_ACCESS(u64, cr4)
DEFINE_MOV_REG_ACCESS(u64, dr0)
DEFINE_MOV_REG_ACCESS(u64, dr1)
DEFINE_MOV_REG_ACCESS(u64, dr2)
DEFINE_MOV_REG_ACCESS(u64, dr3)
DEFINE_MOV_REG_ACCESS(u64, dr6)

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
