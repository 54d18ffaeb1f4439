/* Time from the TSC, calibrated once against PIT channel 2 (present on
 * every PC and in both emulators; the guest does not run yet). */
#include <core/time.h>
#include <x86/cpu.h>

#define PIT_HZ 1193182u
#define CALIBRATE_MS 20u

static u64 tsc_at_boot;
static u64 khz; /* 0 until calibrated: time_ns() then reads 0 */

static u64 pit_measure_tsc(unsigned int ms)
{
	u16 latch = (u16)(PIT_HZ * ms / 1000);
	u8 gate = inb(0x61);
	u64 t0, t1;

	outb(0x61, (gate & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0);                  /* channel 2, lo/hi byte, mode 0 */
	outb(0x42, latch & 0xff);
	outb(0x42, latch >> 8);
	t0 = rdtsc();
	/* OUT2 (port 0x61 bit 5) rises when the count reaches zero. */
	for (u64 i = 0; i < 1000000000ull && !(inb(0x61) & 0x20); i++)
		;
	t1 = rdtsc();
	outb(0x61, gate);
	return t1 - t0;
}

void tsc_calibrate(void)
{
	tsc_at_boot = rdtsc();
	khz = pit_measure_tsc(CALIBRATE_MS) / CALIBRATE_MS;
	if (!khz)
		khz = 1000000; /* assume 1 GHz rather than divide by zero */
}

u64 tsc_khz(void)
{
	return khz;
}

u64 time_ns(void)
{
	if (!khz)
		return 0;
	u64 d = rdtsc() - tsc_at_boot;
	/* Split to avoid overflow: d * 1e6 / khz. */
	return d / khz * 1000000 + d % khz * 1000000 / khz;
}

void udelay(u64 us)
{
	u64 end = rdtsc() + us * (khz ? khz : 1000000) / 1000;

	while ((s64)(rdtsc() - end) < 0)
		cpu_relax();
}
