/* x86 registers' bits and the single instructions that are the same in
 * 32- and 64-bit code: lamina's and the test kernels' (tests/guest/). */
#ifndef X86_CPU_BASE_H
#define X86_CPU_BASE_H

#include <core/types.h>

#define MSR_EFER 0xc0000080
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define EFER_SVME BIT(12)
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_APIC_BASE 0x1b
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_PAT 0x277
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MC_STATUS(bank) (0x401 + 4 * (bank))
#define MSR_MC_ADDR(bank) (0x402 + 4 * (bank))
#define MC_STATUS_VAL BIT(63)
#define MC_STATUS_ADDRV BIT(58)
#define MCG_STATUS_MCIP BIT(2)
#define MSR_STAR 0xc0000081
#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define MSR_VMX_FIRST 0x480 /* VMX capability MSRs: VMX_BASIC ... */
#define MSR_VMX_LAST 0x493  /* ... VMX_EXIT_CTLS2 */
/* Intel Processor Trace: output base and mask, control, status, CR3
 * match, address ranges. */
#define MSR_RTIT_OUTPUT_FIRST 0x560
#define MSR_RTIT_OUTPUT_LAST 0x561
#define MSR_RTIT_CTL_FIRST 0x570
#define MSR_RTIT_CTL_LAST 0x572
#define MSR_RTIT_ADDR_FIRST 0x580
#define MSR_RTIT_ADDR_LAST 0x587
#define MSR_MTRR_CAP 0xfe
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_MTRR_PHYS_BASE(n) (0x200 + 2 * (n))
#define MSR_MTRR_PHYS_MASK(n) (0x201 + 2 * (n))
#define MSR_MTRR_FIX64K 0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_C0000 0x268

#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_MCE BIT(6)
#define CR4_PGE BIT(7)
#define CR4_OSFXSR BIT(9)
#define CR4_VMXE BIT(13)
#define CR4_SMXE BIT(14)
#define CR4_LA57 BIT(12)
#define CR4_PCIDE BIT(17)
#define CR4_OSXSAVE BIT(18)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define CR4_CET BIT(23)

#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_RF BIT(16)
#define RFLAGS_VM BIT(17)
#define RFLAGS_AC BIT(18)

#define DR6_BREAKPOINTS 0xfull /* B0-B3: replaced at each #DB, unlike the rest */
#define DR6_BD BIT(13)       /* general detect: a MOV DR with DR7.GD set */
#define DR6_BS BIT(14)       /* single step */
#define DR6_BT BIT(15)       /* task switch to a TSS with its T bit set */
#define DR6_INIT 0xffff0ff0u /* as after reset; a #DB sets bits, never clears */
#define DR7_GD BIT(13)

/* DR6 after a #DB with these conditions: B0-B3 are replaced when it has
 * any, the rest are added (the CPU never clears them). */
static inline u64 dr6_after_trap(u64 old, u64 conditions)
{
	if (conditions & DR6_BREAKPOINTS)
		old &= ~DR6_BREAKPOINTS;
	return old | conditions;
}       /* MOV DR raises #DB; delivering it clears GD */
#define MSR_DEBUGCTL 0x1d9
#define DEBUGCTL_BTF BIT(1)  /* TF steps from branch to branch */

#define X86_EXC_DB 1
#define X86_EXC_GP 13
#define X86_EXC_AC 17

/* Whether an exception pushes an error code in protected mode: #DF, #TS,
 * #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX. */
static inline bool x86_exception_has_error(u8 vector)
{
	return vector < 32 && ((0x60227d00u >> vector) & 1);
}

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(u32 leaf)
{
	return cpuid_count(leaf, 0);
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | ((u64)hi << 32);
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
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

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | ((u64)hi << 32);
}

/* read_REG and write_REG for a control or debug register, as wide as
 * the code (type: u32 in 32-bit test kernels, u64 in lamina). */
#define DEFINE_MOV_REG_ACCESS(type, reg)                                 \
	static inline type read_##reg(void)                              \
	{                                                                \
		type v;                                                  \
		__asm__ volatile("mov %%" #reg ", %0" : "=r"(v));        \
		return v;                                                \
	}                                                                \
	static inline void write_##reg(type v)                           \
	{                                                                \
		__asm__ volatile("mov %0, %%" #reg ::"r"(v) : "memory"); \
	}

/* Every dirty line to memory (before a sleep state drops the caches). */
static inline void wbinvd(void)
{
	__asm__ volatile("wbinvd" ::: "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* A CPUID feature bit; false for a leaf past the CPU's last (whose
 * answer would be another leaf's on Intel). */
static inline bool cpu_has(u32 leaf, int reg, int bit)
{
	if (leaf > cpuid(leaf & 0x80000000u).eax)
		return false;
	struct cpuid_regs r = cpuid(leaf);
	u32 v = reg == 0 ? r.eax : reg == 1 ? r.ebx : reg == 2 ? r.ecx : r.edx;

	return (v >> bit) & 1;
}

#define CPUID_EAX 0
#define CPUID_EBX 1
#define CPUID_ECX 2
#define CPUID_EDX 3

#endif
