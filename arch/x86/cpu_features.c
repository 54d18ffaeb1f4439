/* CPU capabilities lamina's own paging depends on. */
#include <x86/cpu.h>

unsigned int cpu_phys_bits(void)
{
	if (cpuid(0x80000000).eax >= 0x80000008)
		return cpuid(0x80000008).eax & 0xff;
	return 36;
}

bool cpu_has_1g_pages(void)
{
	return cpu_has(0x80000001, CPUID_EDX, 26);
}
