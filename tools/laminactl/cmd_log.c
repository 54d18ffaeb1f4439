/* `laminactl log`: lamina's in-memory log, 16 bytes per LOG_READ. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <lamina/hypercall.h>

#include "laminactl.h"

#define LOG_CHUNK 16u
#define LOG_FAULT INT32_MIN /* the hypercall itself faulted */

/* Status of LOG_READ at off: bytes read (0 at the end) or an error. */
static int32_t log_read(uint64_t off, char text[LOG_CHUNK])
{
	struct hc_regs r = { .eax = LAMINA_HC_LOG_READ, .ebx = (uint32_t)off,
			     .ecx = (uint32_t)(off >> 32) };
	uint32_t regs[4];

	if (hc_call(&r) != 0)
		return LOG_FAULT;
	/* Byte i of the text is byte i % 4 of the (i / 4)th register in the
	 * order EBX, ECX, EDX, ESI (little-endian). */
	regs[0] = r.ebx, regs[1] = r.ecx, regs[2] = r.edx, regs[3] = r.esi;
	memcpy(text, regs, LOG_CHUNK);
	return hc_status(&r);
}

static int overwritten(uint64_t off)
{
	char text[LOG_CHUNK];

	return log_read(off, text) == LAMINA_E_RANGE;
}

/* The oldest offset at or after `from` still in the ring: offsets below
 * it answer LAMINA_E_RANGE, the rest do not. Doubling steps find one
 * that is still there, then a binary search the boundary. */
static uint64_t oldest_offset(uint64_t from)
{
	uint64_t lo = from, step = 4096, hi;

	if (!overwritten(lo))
		return lo;
	for (hi = lo + step; overwritten(hi) && step < (1ull << 62); hi = lo + step)
		step <<= 1;
	while (hi - lo > 1) { /* lo is overwritten, hi is not */
		uint64_t mid = lo + (hi - lo) / 2;

		if (overwritten(mid))
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

int cmd_log(const struct lamina_info *info)
{
	char text[LOG_CHUNK];
	uint64_t off = oldest_offset(0);
	int32_t n;

	(void)info;
	if (off > 0)
		printf("[laminactl: the log's first %" PRIu64 " bytes are overwritten]\n", off);
	while ((n = log_read(off, text)) != 0) {
		if (n == LAMINA_E_RANGE) { /* lamina wrote faster than we read */
			uint64_t next = oldest_offset(off);

			printf("\n[laminactl: %" PRIu64 " bytes overwritten while reading]\n",
			       next - off);
			off = next;
			continue;
		}
		if (n < 0 || n > (int32_t)LOG_CHUNK) {
			fflush(stdout);
			fprintf(stderr, "laminactl: log read at offset %" PRIu64 ": %s\n", off,
				n == LOG_FAULT ? "the hypercall faulted" : lamina_strerror(n));
			return LCTL_FAIL;
		}
		fwrite(text, 1, (size_t)n, stdout);
		off += (uint64_t)n;
	}
	return LCTL_OK;
}
