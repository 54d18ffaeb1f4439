/* CPU identification helpers. */
#include "cpu.h"
#include "util.h"

void cpu_vendor(char out[13])
{
	struct cpuid_regs r = cpuid(0);

	memcpy(out, &r.ebx, 4);
	memcpy(out + 4, &r.edx, 4);
	memcpy(out + 8, &r.ecx, 4);
	out[12] = '\0';
}

bool cpu_is_amd(void)
{
	char v[13];

	cpu_vendor(v);
	return strcmp(v, "AuthenticAMD") == 0 || strcmp(v, "HygonGenuine") == 0;
}

bool cpu_is_intel(void)
{
	char v[13];

	cpu_vendor(v);
	return strcmp(v, "GenuineIntel") == 0;
}
