/* Guest-physical identity map construction (see nested_map.h). */
#include <x86/nested_map.h>

/* The hole containing pa, or the first hole above it (NULL if none). */
static const struct mem_range *hole_at_or_above(const struct nested_map_desc *d, u64 pa)
{
	const struct mem_range *best = NULL;

	for (unsigned int i = 0; i < d->nholes; i++) {
		const struct mem_range *h = &d->holes[i];
		if (!h->size || h->base + h->size <= pa)
			continue;
		if (!best || h->base < best->base)
			best = h;
	}
	return best;
}

/* The first piece to map at or above pa: [*start, *end), of one memory
 * type and outside every hole. false past the limit. */
static bool next_piece(const struct nested_map_desc *d, u64 pa, u64 *start, u64 *end, u8 *type)
{
	while (pa < d->limit) {
		const struct mem_range *h = hole_at_or_above(d, pa);
		if (h && h->base <= pa) {
			/* Inside a hole: nothing to map (the table is empty). */
			pa = MIN(h->base + h->size, d->limit);
			continue;
		}
		*type = mtrr_type_run(d->mtrr, pa, d->limit, end);
		if (h)
			*end = MIN(*end, h->base);
		*start = pa;
		return true;
	}
	return false;
}

int nested_map_build(struct pt_ctx *c, const struct nested_map_desc *d)
{
	u64 pa = 0, end;
	u8 type;

	while (next_piece(d, pa, &pa, &end, &type)) {
		if (pt_map(c, pa, pa, end - pa, d->attr | PT_MEMTYPE(type)))
			return -1;
		pa = end;
	}
	return 0;
}

/* Tables counted so far, and the last 1 GiB and 2 MiB regions split:
 * edges come in ascending order, so each region is counted once. */
struct split_count {
	u64 last_pd, last_pt;
	unsigned long tables;
};

/* A piece's edge at pa splits the large pages around it: a PT for its
 * 2 MiB region, and a PD for its 1 GiB one (where PDs are not all
 * counted already, without 1 GiB leaves). */
static void count_edge(struct split_count *sc, u64 pa, unsigned int max_leaf_level)
{
	u64 pd = ALIGN_DOWN(pa, PT_LEVEL_SIZE(3)), pt = ALIGN_DOWN(pa, PT_LEVEL_SIZE(2));

	if (max_leaf_level >= 3 && pa != pd && pd != sc->last_pd) {
		sc->last_pd = pd;
		sc->tables++;
	}
	if (pa != pt && pt != sc->last_pt) {
		sc->last_pt = pt;
		sc->tables++;
	}
}

/* How many regions of `size` bytes [0, limit) touches. */
static unsigned long regions(u64 limit, u64 size)
{
	return (unsigned long)(limit / size + (limit % size != 0));
}

unsigned long nested_map_tables(const struct nested_map_desc *d, unsigned int max_leaf_level)
{
	struct split_count sc = { .last_pd = ~0ull, .last_pt = ~0ull };
	u64 pa = 0, end;
	u8 type;

	sc.tables = 1 + regions(d->limit, PT_LEVEL_SIZE(4));
	if (max_leaf_level < 3)
		sc.tables += regions(d->limit, PT_LEVEL_SIZE(3));
	while (next_piece(d, pa, &pa, &end, &type)) {
		count_edge(&sc, pa, max_leaf_level);
		count_edge(&sc, end, max_leaf_level);
		pa = end;
	}
	return sc.tables;
}

static bool tables_fit(const struct nested_map_desc *d, u64 limit, unsigned long budget,
		       unsigned int max_leaf_level)
{
	struct nested_map_desc at = *d;

	at.limit = limit;
	return nested_map_tables(&at, max_leaf_level) <= budget;
}

u64 nested_map_limit(const struct nested_map_desc *d, u64 known, unsigned long budget,
		     unsigned int max_leaf_level)
{
	u64 lo = regions(MIN(known, d->limit), GiB), hi = d->limit / GiB;

	if (tables_fit(d, d->limit, budget, max_leaf_level))
		return d->limit;
	if (!tables_fit(d, lo * GiB, budget, max_leaf_level))
		return 0;
	/* Tables grow with the limit: the last GiB count that fits. */
	while (lo < hi) {
		u64 mid = lo + (hi - lo + 1) / 2;
		if (tables_fit(d, mid * GiB, budget, max_leaf_level))
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo * GiB;
}

int nested_map_protect(struct pt_ctx *c, const struct nested_map_desc *d,
		       u64 pa, u64 size, u64 attr)
{
	u64 end = pa + size;

	while (pa < end) {
		u64 run_end;
		u8 type = mtrr_type_run(d->mtrr, pa, end, &run_end);
		if (pt_map(c, pa, pa, run_end - pa, attr | PT_MEMTYPE(type)))
			return -1;
		pa = run_end;
	}
	return 0;
}
