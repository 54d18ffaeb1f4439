/* Page tables and IDT for the visits to 64-bit mode. */
#include "cpu.h"
#include "desc.h"
#include "longmode.h"
#include "trap.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)

int long_mode_call(u32 fn64, u32 arg);
extern const u8 lm_trap_stubs[], lm_store64_fn[], lm_load64_fn[];
extern const u8 lm_vmmcall_fn[], lm_vmcall_fn[];

static u64 pml4[512] __aligned(4096);
static u64 pdpt[512] __aligned(4096);
static u64 pd[4][512] __aligned(4096);
static u64 idt64[32][2] __aligned(16);
u32 lm_cr3;
/* The 10-byte operand of the 64-bit LIDT, in longmode.S. */
extern struct {
	u16 limit;
	u64 base;
} __packed lm_idt_desc;

bool lm_available(void)
{
	return cpu_has(0x80000001, CPUID_EDX, 29);
}

/* Built on first use: 4 GiB in 2 MiB pages, and 64-bit gates. */
static void lm_setup(void)
{
	if (lm_cr3)
		return;
	for (u32 i = 0; i < 4; i++) {
		pdpt[i] = (u32)pd[i] | PTE_P | PTE_RW;
		for (u32 j = 0; j < 512; j++)
			pd[i][j] = ((u64)(i * 512 + j) << 21) | PTE_P | PTE_RW | PTE_PS;
	}
	pml4[0] = (u32)pdpt | PTE_P | PTE_RW;
	for (u32 v = 0; v < 32; v++) {
		u32 off = (u32)(lm_trap_stubs + 16 * v);

		idt64[v][0] = (off & 0xffff) | ((u64)SEL_KCODE64 << 16) | (0x8eull << 40) |
			      ((u64)(off >> 16) << 48);
		idt64[v][1] = 0;
	}
	lm_idt_desc.limit = sizeof(idt64) - 1;
	lm_idt_desc.base = (u32)idt64;
	lm_cr3 = (u32)pml4;
}

static int lm_call(const u8 *fn, void *arg)
{
	lm_setup();
	return long_mode_call((u32)fn, (u32)arg);
}

int lm_run(const void *fn64, void *arg, u32 cr3)
{
	u32 own;
	int vec;

	lm_setup();
	own = lm_cr3;
	if (cr3)
		lm_cr3 = cr3;
	vec = long_mode_call((u32)fn64, (u32)arg);
	lm_cr3 = own;
	return vec;
}

int lm_store64(u32 addr, u64 val)
{
	u64 a[2] = { addr, val };

	return lm_call(lm_store64_fn, a);
}

int lm_load64(u32 addr, u64 *val)
{
	u64 a[2] = { addr, 0 };
	int vec = lm_call(lm_load64_fn, a);

	*val = a[1];
	return vec;
}

int lm_hypercall(struct hc64_regs *r, bool amd)
{
	return lm_call(amd ? lm_vmmcall_fn : lm_vmcall_fn, r);
}
