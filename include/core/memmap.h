/* Physical memory maps in e820 terms: the firmware's, cleaned up, and the
 * ones lamina gives the guest (its own memory marked reserved). */
#ifndef CORE_MEMMAP_H
#define CORE_MEMMAP_H

#include <core/types.h>

enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI = 3,     /* ACPI tables, reclaimable */
	MEM_NVS = 4,      /* ACPI non-volatile storage */
	MEM_BAD = 5,
	MEM_PMEM = 7,
};

struct mem_range {
	u64 base, size;
	u32 type;
};

#define MEMMAP_MAX 128
/* The most entries lamina reads from a boot loader's map, before merging. */
#define MEMMAP_RAW_MAX 1024

struct memmap {
	unsigned int n;
	bool lost;           /* ranges did not fit in MEMMAP_MAX (see sanitize) */
	struct mem_range r[MEMMAP_MAX];
};

/* A map as the firmware reported it: unsorted, overlapping. */
struct memmap_raw {
	unsigned int n;
	u32 lost;            /* entries past MEMMAP_RAW_MAX, not kept */
	struct mem_range r[MEMMAP_RAW_MAX];
};

/* Append a range as the firmware reported it (no checks; see sanitize);
 * sets lost when the map is full. */
void memmap_add(struct memmap *m, u64 base, u64 size, u32 type);

/* Sort, clip at 2^64, drop empty ranges, resolve overlaps (a non-usable
 * type wins over usable; among others the most restrictive: bad, then
 * reserved, NVS, ACPI, unknown types; type 0 counts as reserved, as Linux
 * takes it), and merge neighbours of one type. Returns the number of
 * ranges. What does not fit is left out and lost set: usable ranges
 * first, from the top, then the topmost of any type. The sanitizers use
 * static scratch: boot time only, on one CPU. */
unsigned int memmap_sanitize(struct memmap *m);

/* Append an entry as reported; counts it in lost when raw is full. */
void memmap_raw_add(struct memmap_raw *raw, u64 base, u64 size, u32 type);

/* m = raw, sanitized: all raw entries are resolved before anything is
 * left out. Returns the number of ranges left out. */
unsigned int memmap_from_raw(struct memmap *m, const struct memmap_raw *raw);

/* Cut the (sanitized) map at limit: nothing at or above it remains.
 * Returns true if something was cut. */
bool memmap_clip(struct memmap *m, u64 limit);

/* Make [base, base + size) of the given type, splitting what was there.
 * The map must be sanitized; it stays so. Returns -1 if it would overflow. */
int memmap_set(struct memmap *m, u64 base, u64 size, u32 type);

/* True when all of [base, base + size) is usable RAM. */
bool memmap_is_usable(const struct memmap *m, u64 base, u64 size);

/* End of the highest range of the given type, or of any type for 0. */
u64 memmap_end_of(const struct memmap *m, u32 type);

/* The highest base, aligned to align, such that [base, base + size) is
 * usable RAM, ends at or below limit and overlaps none of the nav ranges
 * in avoid[]. Returns 0 and sets *base, or -1. */
int memmap_find_free(const struct memmap *m, u64 size, u64 align, u64 limit,
		     const struct mem_range *avoid, unsigned int nav, u64 *base);

const char *mem_type_name(u32 type);

#endif
