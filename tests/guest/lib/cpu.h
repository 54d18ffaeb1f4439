/* Thin wrappers over single instructions. None of these expects a fault:
 * for instructions that may fault, use the probes in trap.h. */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <x86/cpu_base.h>

DEFINE_MOV_REG_ACCESS(u32, cr0)
DEFINE_MOV_REG_ACCESS(u32, cr3)
DEFINE_MOV_REG_ACCESS(u32, cr4)
DEFINE_MOV_REG_ACCESS(u32, dr0)
DEFINE_MOV_REG_ACCESS(u32, dr1)
DEFINE_MOV_REG_ACCESS(u32, dr6)
DEFINE_MOV_REG_ACCESS(u32, dr7)

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

static inline void __noreturn halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* CPU vendor, from CPUID leaf 0. */
bool cpu_is_amd(void);
bool cpu_is_intel(void);
void cpu_vendor(char out[13]);

#endif
