/* Thin wrappers over single instructions. None of these expects a fault:
 * for instructions that may fault, use the probes in trap.h. */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <core/types.h>

#define CR0_PE BIT(0)
#define CR0_PG BIT(31)
#define CR4_PAE BIT(5)
#define CR4_VMXE BIT(13)
#define CR4_OSXSAVE BIT(18)
#define EFLAGS_IF BIT(9)
#define EFLAGS_VM BIT(17)

#define MSR_APIC_BASE 0x1b
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_PAT 0x277
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117

#define EFER_LME BIT(8)
#define EFER_NXE BIT(11)
#define EFER_SVME BIT(12)

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 val)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)val), "d"((u32)(val >> 32))
			 : "memory");
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline u32 read_cr0(void)
{
	u32 v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline u32 read_cr4(void)
{
	u32 v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(u32 v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

static inline u32 read_eflags(void)
{
	u32 v;

	__asm__ volatile("pushfl; popl %0" : "=r"(v));
	return v;
}

/* A pointer to physical memory (paging is off). The empty asm hides the
 * constant from GCC, which otherwise warns about small fixed addresses. */
static inline void *phys(u32 addr)
{
	__asm__("" : "+r"(addr));
	return (void *)addr;
}

static inline u32 mmio_read32(u32 addr)
{
	return *(volatile u32 *)addr;
}

static inline void mmio_write32(u32 addr, u32 v)
{
	*(volatile u32 *)addr = v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void __noreturn halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* CPU vendor, from CPUID leaf 0. */
bool cpu_is_amd(void);
bool cpu_is_intel(void);
void cpu_vendor(char out[13]);
bool cpu_has(u32 leaf, char reg, u32 bit);

#endif
