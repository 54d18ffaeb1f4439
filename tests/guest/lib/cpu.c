/* CPU identification helpers. */
#include "cpu.h"
#include "util.h"

void cpu_vendor(char out[13])
{
	struct cpuid_regs r = cpuid(0, 0);

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

/* Feature bit `bit` of register `reg` ('a', 'b', 'c', 'd') of `leaf`
 * (subleaf 0), or false when the leaf is past the CPU's maximum. */
bool cpu_has(u32 leaf, char reg, u32 bit)
{
	u32 max = cpuid(leaf & 0x80000000u, 0).eax;
	struct cpuid_regs r;
	u32 v;

	if (leaf > max)
		return false;
	r = cpuid(leaf, 0);
	v = reg == 'a' ? r.eax : reg == 'b' ? r.ebx : reg == 'c' ? r.ecx : r.edx;
	return (v >> bit) & 1;
}
