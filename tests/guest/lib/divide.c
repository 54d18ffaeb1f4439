#include "util.h"

/* n / d, and n % d in *rem. A divisor that fits 32 bits (every one the
 * test kernels use) takes two DIVLs; a wider one, shift and subtract. A
 * zero divisor faults (#DE) as a division by zero does. */
u64 __udivmoddi4(u64 n, u64 d, u64 *rem)
{
	u64 q = 0, r = 0;

	if (d >> 32 == 0) {
		u32 hi = (u32)(n >> 32), lo = (u32)n, dd = (u32)d;
		u32 qhi = hi / dd, r32 = hi % dd, qlo;

		/* r32 < dd, so the quotient fits 32 bits. */
		__asm__("divl %4" : "=a"(qlo), "=d"(r32) : "a"(lo), "d"(r32), "rm"(dd));
		*rem = r32;
		return ((u64)qhi << 32) | qlo;
	}
	for (int bit = 63; bit >= 0; bit--) {
		r = r << 1 | ((n >> bit) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ull << bit;
		}
	}
	*rem = r;
	return q;
}

u64 __udivdi3(u64 n, u64 d)
{
	u64 rem;

	return __udivmoddi4(n, d, &rem);
}

u64 __umoddi3(u64 n, u64 d)
{
	u64 rem;

	__udivmoddi4(n, d, &rem);
	return rem;
}
