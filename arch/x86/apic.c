/* Local APIC access for lamina's own IPIs. The guest owns the APIC and
 * may switch it to x2APIC mode at any time, so the mode is checked on
 * every access rather than remembered. */
#include <core/time.h>
#include <x86/apic.h>
#include <x86/cpu.h>
#include <x86/paging.h>

static volatile u32 *xapic;
static u64 xapic_pa;

static bool x2apic_mode(void)
{
	return rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD;
}

static u32 apic_read(u32 reg)
{
	if (x2apic_mode())
		return (u32)rdmsr(0x800 + reg / 16);
	return xapic[reg / 4];
}

static void apic_write(u32 reg, u32 v)
{
	if (x2apic_mode())
		wrmsr(0x800 + reg / 16, v);
	else
		xapic[reg / 4] = v;
}

void apic_init(void)
{
	xapic_pa = rdmsr(MSR_APIC_BASE) & ~0xfffull & ((1ull << 52) - 1);
	xapic = io_map(xapic_pa, PAGE_SIZE);
}

bool apic_id_reachable(u32 id)
{
	return x2apic_mode() ? id != ~0u : id < 0xff;
}

u64 apic_base_pa(void)
{
	return xapic_pa;
}

void apic_cpu_enable(void)
{
	u64 base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_EN))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
	apic_write(APIC_SVR, 0x100 | 0xff); /* enabled, spurious vector 0xff */
	apic_write(APIC_TPR, 0);
}

void apic_cpu_reset(void)
{
	static const u32 lvts[] = { APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PMC,
				    APIC_LVT_LINT0, APIC_LVT_LINT1, APIC_LVT_ERROR };

	for (unsigned int i = 0; i < ARRAY_SIZE(lvts); i++)
		apic_write(lvts[i], BIT(16)); /* masked */
	apic_write(APIC_TIMER_ICR, 0);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, 0xff); /* software-disabled, as after INIT */
}

u32 apic_id(void)
{
	if (x2apic_mode())
		return (u32)rdmsr(0x802);
	return xapic[APIC_ID / 4] >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

#define APIC_ISR 0x100 /* eight registers of 32 bits, 0x10 apart */

bool apic_in_service(u8 vector)
{
	if (!xapic && !x2apic_mode())
		return false; /* an exception before apic_init: not an interrupt */
	return apic_read(APIC_ISR + (vector / 32) * 0x10) & BIT(vector % 32);
}

/* In xAPIC mode an IPI takes two writes, and the guest may have made the
 * first (its destination, in ICR_HI) when an exit brings this CPU into
 * lamina: lamina's own IPI puts that destination back, or the guest's
 * ICR_LO write would send its IPI to lamina's target instead. */
void apic_send_ipi(u32 dest, u32 icr_lo)
{
	if (x2apic_mode()) {
		wrmsr(MSR_X2APIC_ICR, ((u64)dest << 32) | icr_lo);
		return;
	}
	u32 guest_hi = apic_read(APIC_ICR_HI);

	for (unsigned int i = 0; i < 100000 && (apic_read(APIC_ICR_LO) & ICR_BUSY); i++)
		cpu_relax();
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, icr_lo);
	apic_write(APIC_ICR_HI, guest_hi);
}

void apic_send_nmi_all_but_self(void)
{
	if (xapic || x2apic_mode())
		apic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_DM_NMI);
}
