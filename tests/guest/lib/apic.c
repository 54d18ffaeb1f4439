#include "apic.h"
#include "cpu.h"
#include "print.h"
#include "timer.h"

#define X2APIC_MSR(reg) (0x800 + ((reg) >> 4))
#define X2APIC_ICR 0x830

static u32 base = 0xfee00000;
static bool x2; /* the BSP's mode: kept here so no RDMSR is needed */

bool apic_init(void)
{
	u64 msr = rdmsr(MSR_APIC_BASE);

	base = (u32)msr & ~0xfffu;
	x2 = msr & APIC_BASE_X2APIC;
	if (!(msr & APIC_BASE_ENABLE))
		return false;
	/* Software enable, spurious vector 0xff. Interrupts stay off (IF=0). */
	apic_write(APIC_SVR, apic_read(APIC_SVR) | 0x1ff);
	return true;
}

void apic_enable_x2apic(void)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
	x2 = true;
}

bool apic_is_x2apic(void)
{
	return x2;
}

u32 apic_read(u32 reg)
{
	return x2 ? (u32)rdmsr(X2APIC_MSR(reg)) : mmio_read32(base + reg);
}

void apic_write(u32 reg, u32 val)
{
	if (x2)
		wrmsr(X2APIC_MSR(reg), val);
	else
		mmio_write32(base + reg, val);
}

u32 apic_self_id(void)
{
	return x2 ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

bool apic_send_ipi(u32 dest, u32 icr_lo)
{
	u64 until;

	if (x2) {
		/* One write; x2APIC has no delivery-status bit. */
		wrmsr(X2APIC_ICR, ((u64)dest << 32) | icr_lo);
		return true;
	}
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, icr_lo);
	for (until = time_us() + 100000; time_us() < until;)
		if (!(apic_read(APIC_ICR_LO) & ICR_PENDING))
			return true;
	return false;
}

static bool send_noted(u32 dest, u32 icr)
{
	bool sent = apic_send_ipi(dest, icr);

	if (!sent)
		kprintf("#   IPI 0x%x to %u stayed pending\n", icr, dest);
	return sent;
}

/* INIT assert, wait, INIT de-assert, then two SIPIs: Linux's order (it
 * still de-asserts, which an APIC must ignore). */
bool apic_init_sipi_sipi(u32 dest, u32 shorthand, u32 vector, u32 init_delay_us,
			 u32 sipi_delay_us)
{
	bool sent = send_noted(dest, shorthand | ICR_INIT | ICR_LEVEL | ICR_ASSERT);

	udelay(init_delay_us);
	sent &= send_noted(dest, shorthand | ICR_INIT | ICR_LEVEL);
	for (int i = 0; i < 2; i++) {
		sent &= send_noted(dest, shorthand | ICR_STARTUP | vector);
		udelay(sipi_delay_us);
	}
	return sent;
}
