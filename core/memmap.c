/* e820-style memory maps: cleaning up what firmware reports, carving out
 * lamina's home, and finding free space for guest boot data. */
#include <core/memmap.h>

void memmap_add(struct memmap *m, u64 base, u64 size, u32 type)
{
	if (m->n < MEMMAP_MAX)
		m->r[m->n++] = (struct mem_range){ base, size, type };
	else
		m->lost = true;
}

/* Higher wins where ranges overlap. */
static int type_rank(u32 type)
{
	switch (type) {
	case MEM_USABLE: return 0;
	case MEM_ACPI: return 2;
	case MEM_NVS: return 3;
	case MEM_RESERVED: return 4;
	case MEM_BAD: return 5;
	default: return 1;
	}
}

static void sort_u64(u64 *v, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		u64 x = v[i];
		unsigned int j = i;
		for (; j && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static u64 clipped_end(u64 base, u64 size)
{
	/* Clip at 2^64 - 1; callers treat end as exclusive. */
	return base + size < base ? UINT64_MAX : base + size;
}

static u64 range_end(const struct mem_range *r)
{
	return clipped_end(r->base, r->size);
}

/* The winning type over [a, b) among the input ranges, or 0 if none. */
static u32 type_at(const struct mem_range *in, unsigned int n, u64 a, u64 b)
{
	u32 best = 0;

	for (unsigned int i = 0; i < n; i++)
		if (in[i].base <= a && range_end(&in[i]) >= b &&
		    (!best || type_rank(in[i].type) > type_rank(best)))
			best = in[i].type;
	return best;
}

/* Scratch for sanitizing, large enough for a raw map: boot time only, on
 * one CPU (memmap.h). */
static struct mem_range scratch_in[MEMMAP_RAW_MAX];
static u64 scratch_pts[2 * MEMMAP_RAW_MAX];
static struct mem_range scratch_out[2 * MEMMAP_RAW_MAX];

/* The pieces of raw[] sorted, without overlaps, neighbours of one type
 * merged, into scratch_out; returns how many. */
static unsigned int resolve(const struct mem_range *raw, unsigned int nraw)
{
	unsigned int n = 0, np = 0, nout = 0;

	for (unsigned int i = 0; i < nraw; i++) {
		if (!raw[i].size)
			continue;
		scratch_in[n] = raw[i];
		if (!scratch_in[n].type)
			scratch_in[n].type = MEM_RESERVED;
		scratch_pts[np++] = scratch_in[n].base;
		scratch_pts[np++] = range_end(&scratch_in[n]);
		n++;
	}
	sort_u64(scratch_pts, np);
	for (unsigned int i = 0; i + 1 < np; i++) {
		u64 a = scratch_pts[i], b = scratch_pts[i + 1];
		u32 t = a == b ? 0 : type_at(scratch_in, n, a, b);
		if (!t)
			continue;
		struct mem_range *last = nout ? &scratch_out[nout - 1] : NULL;
		if (last && last->type == t && range_end(last) == a)
			last->size += b - a;
		else
			scratch_out[nout++] = (struct mem_range){ a, b - a, t };
	}
	return nout;
}

/* The n resolved pieces into m, as many as fit. Usable RAM is left out
 * first, from the top: lamina and the guest only lose memory, whereas a
 * reserved range left out would leave a hole that looks like free
 * address space. Returns how many pieces were left out. */
static unsigned int keep_what_fits(struct memmap *m, struct mem_range *r, unsigned int n)
{
	unsigned int excess = n > MEMMAP_MAX ? n - MEMMAP_MAX : 0, left_out = 0;

	for (unsigned int i = n; i-- > 0 && left_out < excess;)
		if (r[i].type == MEM_USABLE) {
			r[i].size = 0;
			left_out++;
		}
	m->n = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (!r[i].size)
			continue;
		if (m->n < MEMMAP_MAX)
			m->r[m->n++] = r[i];
		else
			left_out++;
	}
	m->lost |= left_out > 0;
	return left_out;
}

unsigned int memmap_sanitize(struct memmap *m)
{
	keep_what_fits(m, scratch_out, resolve(m->r, m->n));
	return m->n;
}

void memmap_raw_add(struct memmap_raw *raw, u64 base, u64 size, u32 type)
{
	if (raw->n < MEMMAP_RAW_MAX)
		raw->r[raw->n++] = (struct mem_range){ base, size, type };
	else
		raw->lost++;
}

unsigned int memmap_from_raw(struct memmap *m, const struct memmap_raw *raw)
{
	m->n = 0;
	m->lost = false;
	return keep_what_fits(m, scratch_out, resolve(raw->r, raw->n));
}

int memmap_set(struct memmap *m, u64 base, u64 size, u32 type)
{
	struct memmap out = { .lost = m->lost };
	u64 end = clipped_end(base, size);

	if (!size)
		return 0;
	/* Keep the parts of each range outside [base, end), then insert. */
	for (unsigned int i = 0; i < m->n; i++) {
		const struct mem_range *r = &m->r[i];
		u64 rend = range_end(r);
		if (rend <= base || r->base >= end) {
			if (out.n == MEMMAP_MAX)
				return -1;
			memmap_add(&out, r->base, r->size, r->type);
			continue;
		}
		if (r->base < base)
			memmap_add(&out, r->base, base - r->base, r->type);
		if (rend > end)
			memmap_add(&out, end, rend - end, r->type);
	}
	if (out.n + 1 > MEMMAP_MAX)
		return -1;
	memmap_add(&out, base, end - base, type);
	*m = out;
	memmap_sanitize(m);
	return 0;
}

bool memmap_clip(struct memmap *m, u64 limit)
{
	bool cut = false;

	while (m->n && m->r[m->n - 1].base >= limit) {
		m->n--;
		cut = true;
	}
	if (m->n && range_end(&m->r[m->n - 1]) > limit) {
		m->r[m->n - 1].size = limit - m->r[m->n - 1].base;
		cut = true;
	}
	return cut;
}

bool memmap_is_usable(const struct memmap *m, u64 base, u64 size)
{
	u64 end = clipped_end(base, size);

	/* Sanitized maps are sorted and merged: one range must cover it. */
	for (unsigned int i = 0; i < m->n; i++)
		if (m->r[i].type == MEM_USABLE && m->r[i].base <= base &&
		    range_end(&m->r[i]) >= end)
			return true;
	return false;
}

u64 memmap_end_of(const struct memmap *m, u32 type)
{
	u64 top = 0;

	for (unsigned int i = 0; i < m->n; i++)
		if (!type || m->r[i].type == type)
			top = MAX(top, range_end(&m->r[i]));
	return top;
}

/* Lowers *end below any avoided range that [*end - size, *end) overlaps.
 * Returns true when it moved. */
static bool dodge(u64 *end, u64 size, u64 align, const struct mem_range *avoid,
		  unsigned int nav)
{
	for (unsigned int i = 0; i < nav; i++) {
		u64 a = avoid[i].base, b = range_end(&avoid[i]);
		if (!avoid[i].size || *end <= a || *end - size >= b)
			continue;
		if (a < size) {
			*end = 0;
			return true;
		}
		*end = ALIGN_DOWN(a - size, align) + size;
		return true;
	}
	return false;
}

int memmap_find_free(const struct memmap *m, u64 size, u64 align, u64 limit,
		     const struct mem_range *avoid, unsigned int nav, u64 *base)
{
	if (!size || !align)
		return -1;
	for (int i = (int)m->n - 1; i >= 0; i--) {
		const struct mem_range *r = &m->r[i];
		if (r->type != MEM_USABLE)
			continue;
		u64 end = MIN(range_end(r), limit);
		if (end < size)
			continue;
		end = ALIGN_DOWN(end - size, align) + size;
		do {
			if (end < size || end - size < r->base)
				break;
		} while (dodge(&end, size, align, avoid, nav));
		if (end >= size && end - size >= r->base && end <= MIN(range_end(r), limit)) {
			*base = end - size;
			return 0;
		}
	}
	return -1;
}

const char *mem_type_name(u32 type)
{
	switch (type) {
	case MEM_USABLE: return "usable";
	case MEM_RESERVED: return "reserved";
	case MEM_ACPI: return "ACPI data";
	case MEM_NVS: return "ACPI NVS";
	case MEM_BAD: return "unusable";
	case MEM_PMEM: return "persistent";
	default: return "unknown";
	}
}
