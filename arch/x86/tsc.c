/* Time from the TSC, calibrated once against PIT channel 2 (present on
 * every PC and in both emulators; the guest does not run yet). */
#include <core/log.h>
#include <core/time.h>
#include <x86/cpu.h>

#define PIT_HZ 1193182u
#define CALIBRATE_MS 20u

static u64 tsc_at_boot;
static u64 khz; /* 0 until calibrated: time_ns() then reads 0 */

/* Past this many TSC cycles (0.4 s at 10 GHz, 4 s at 1 GHz) the PIT
 * is taken to be missing or gated off, as on some recent boards. */
#define PIT_GIVE_UP_CYCLES (1ull << 32)

/* TSC cycles in `ms` milliseconds of PIT channel 2, or 0 if the PIT does
 * not count (OUT2 high before the count started, or never rising). */
static u64 pit_measure_tsc(unsigned int ms)
{
	u16 latch = (u16)(PIT_HZ * ms / 1000);
	u8 gate = inb(0x61);
	u64 t0, t1 = 0;

	outb(0x61, (gate & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0);                  /* channel 2, lo/hi byte, mode 0 */
	outb(0x42, latch & 0xff);
	outb(0x42, latch >> 8);
	t0 = rdtsc();
	/* OUT2 (port 0x61 bit 5) is low once the count is loaded, and rises
	 * when it reaches zero. A missing port 0x61 reads all-ones. */
	if (!(inb(0x61) & 0x20)) {
		while (!(inb(0x61) & 0x20) && rdtsc() - t0 < PIT_GIVE_UP_CYCLES)
			cpu_relax();
		t1 = rdtsc();
	}
	outb(0x61, gate);
	return t1 && t1 - t0 < PIT_GIVE_UP_CYCLES ? t1 - t0 : 0;
}

/* Intel's CPUID leaf 0x15 (TSC/crystal ratio and crystal Hz), else leaf
 * 0x16's base MHz (close to the TSC on the parts that have it); 0 if
 * neither says. */
static u64 cpuid_tsc_khz(const char **how)
{
	u32 max = cpuid(0).eax;

	if (max >= 0x15) {
		struct cpuid_regs r = cpuid(0x15);

		if (r.eax && r.ebx && r.ecx) {
			*how = "CPUID leaf 0x15";
			return (u64)r.ecx * r.ebx / r.eax / 1000;
		}
	}
	u32 base_mhz = max >= 0x16 ? cpuid(0x16).eax & 0xffff : 0;

	if (base_mhz)
		*how = "CPUID leaf 0x16, approximate";
	return (u64)base_mhz * 1000;
}

/* 1 MHz (Bochs counts 50 MHz: one tick per instruction at its default
 * speed) to 100 GHz: anything else is a measurement gone wrong. */
static bool plausible(u64 k)
{
	return k >= 1000 && k <= 100000000;
}

void tsc_calibrate(void)
{
	const char *how = "PIT channel 2";
	u64 k;

	tsc_at_boot = rdtsc();
	k = pit_measure_tsc(CALIBRATE_MS) / CALIBRATE_MS;
	if (!plausible(k)) {
		log_warn("TSC: the PIT gave no usable measurement (%llu kHz); trying CPUID",
			 (unsigned long long)k);
		k = cpuid_tsc_khz(&how);
	}
	if (!plausible(k)) {
		log_err("TSC: frequency unknown; assuming 1 GHz: log times, delays and rate "
			"limits will be off by the factor it is wrong by");
		k = 1000000;
		how = "assumed";
	}
	khz = k;
	log_info("TSC: %llu.%03llu MHz (%s)", (unsigned long long)(k / 1000),
		 (unsigned long long)(k % 1000), how);
}

u64 tsc_khz(void)
{
	return khz;
}

u64 time_ns(void)
{
	if (!khz)
		return 0;
	/* The guest may write the TSC (IA32_TSC, TSC_ADJUST pass through):
	 * before lamina's boot reads as lamina's boot, not 584 years on. */
	s64 signed_d = (s64)(rdtsc() - tsc_at_boot);
	u64 d = signed_d > 0 ? (u64)signed_d : 0;
	/* Split to avoid overflow: d * 1e6 / khz. */
	return d / khz * 1000000 + d % khz * 1000000 / khz;
}

void tsc_resume(u64 ns)
{
	if (khz)
		tsc_at_boot = rdtsc() - (ns / 1000000 * khz + ns % 1000000 * khz / 1000000);
}

void udelay(u64 us)
{
	u64 end = rdtsc() + us * (khz ? khz : 1000000) / 1000;

	while ((s64)(rdtsc() - end) < 0)
		cpu_relax();
}
