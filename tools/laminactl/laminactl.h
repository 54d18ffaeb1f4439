/* laminactl: the guest-side command line tool over lamina's hypercalls. */
#ifndef LAMINACTL_H
#define LAMINACTL_H

#include <stdint.h>

#include "hypercall.h"

/* Exit statuses of the program. */
enum {
	LCTL_OK = 0,
	LCTL_FAIL = 1,  /* not under lamina, or a hypercall failed */
	LCTL_USAGE = 2, /* unknown command or bad arguments */
};

/* What LAMINA_HC_VERSION tells about the running lamina. */
struct lamina_info {
	uint32_t version; /* LAMINA_VERSION_CODE of the running lamina */
	uint32_t vendor;  /* enum lamina_vendor */
	uint32_t ncpus;
};

/* Fills info and returns 0 when lamina answers; otherwise prints
 * "laminactl: not running under lamina" on stderr and returns -1. */
int lamina_probe(struct lamina_info *info);

/* Makes one hypercall (EAX = function, the rest as given in r) and
 * returns its status (>= 0) or, after printing "laminactl: WHAT: ..." on
 * stderr, a negative one. */
int32_t lamina_request(struct hc_regs *r, const char *what);

/* A 64-bit result that the ABI gives as two 32-bit halves. */
static inline uint64_t hc_u64(uint32_t low, uint32_t high)
{
	return (uint64_t)high << 32 | low;
}

/* A short text for a negative hypercall status (LAMINA_E_*). */
const char *lamina_strerror(int32_t status);

/* The commands; each returns an exit status. */
int cmd_version(const struct lamina_info *info);
int cmd_stats(const struct lamina_info *info);
int cmd_meminfo(const struct lamina_info *info);
int cmd_log(const struct lamina_info *info);

#endif
