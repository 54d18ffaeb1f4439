#include "cpu.h"
#include "print.h"
#include "timer.h"
#include "util.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_61 0x61 /* bit 0: channel 2 gate, bit 5: its output */
#define CALIBRATE_MS 20u

static u32 khz = 1000000; /* until measured: assume 1 GHz */
static u64 tsc0;

bool timer_init(void)
{
	u32 count = PIT_HZ / 1000 * CALIBRATE_MS;
	u64 t0, t1;
	u32 spins = 0;

	/* Gate on, speaker off; mode 0 (output rises at terminal count). */
	outb(PORT_61, (inb(PORT_61) & ~0x02) | 0x01);
	outb(PIT_CMD, 0xb0);
	outb(PIT_CH2, (u8)count);
	outb(PIT_CH2, (u8)(count >> 8));
	t0 = rdtsc();
	while (!(inb(PORT_61) & 0x20))
		if (++spins > 100000000u) {
			kprintf("# timer: the PIT does not count; assuming %u kHz\n", khz);
			return false;
		}
	t1 = rdtsc();
	khz = (u32)((t1 - t0) / CALIBRATE_MS);
	tsc0 = t1;
	kprintf("# timer: TSC at %u kHz\n", khz);
	return khz != 0;
}

u32 tsc_khz(void)
{
	return khz;
}

u64 time_us(void)
{
	return (rdtsc() - tsc0) * 1000 / khz;
}

void udelay(u32 us)
{
	u64 end = rdtsc() + (u64)us * khz / 1000;

	while (rdtsc() < end)
		cpu_relax();
}
