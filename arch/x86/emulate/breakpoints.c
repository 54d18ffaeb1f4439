/* Data breakpoints (SDM Vol. 3B 18.2.4, 18.2.5) for accesses lamina
 * carries out for the guest: the CPU's own debug registers do not see
 * them. */
#include <x86/emulate.h>

#define DR7_RW_WRITE 1
#define DR7_RW_READ_WRITE 3

/* LEN encodings 00, 01, 10, 11: 1, 2, 8 and 4 bytes. */
static const u8 len_bytes[4] = { 1, 2, 8, 4 };

static unsigned int rw_of(u64 dr7, unsigned int n)
{
	return (unsigned int)(dr7 >> (16 + 4 * n)) & 3;
}

u8 x86_data_breakpoints_armed(u64 dr7)
{
	u8 armed = 0;

	for (unsigned int n = 0; n < 4; n++) {
		unsigned int rw = rw_of(dr7, n);

		if ((dr7 >> (2 * n)) & 3 && (rw == DR7_RW_WRITE || rw == DR7_RW_READ_WRITE))
			armed |= (u8)BIT(n);
	}
	return armed;
}

/* A breakpoint covers its LEN bytes from its address with the low bits
 * cleared (the address must be aligned to LEN); an access hits it if the
 * two overlap. Writes hit R/W 01 and 11, reads only 11. */
u8 x86_data_breakpoints_hit(u64 dr7, const u64 dr[4], u64 la, unsigned int size, bool write)
{
	u8 armed = x86_data_breakpoints_armed(dr7), hit = 0;

	for (unsigned int n = 0; n < 4; n++) {
		u64 len = len_bytes[(dr7 >> (18 + 4 * n)) & 3];
		u64 start = dr[n] & ~(len - 1);

		if (!(armed & BIT(n)) || (!write && rw_of(dr7, n) != DR7_RW_READ_WRITE))
			continue;
		if (la < start + len && start < la + size)
			hit |= (u8)BIT(n);
	}
	return hit;
}
