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

int nested_map_build(struct pt_ctx *c, const struct nested_map_desc *d)
{
	u64 pa = 0;

	while (pa < d->limit) {
		const struct mem_range *h = hole_at_or_above(d, pa);
		u64 end;
		if (h && h->base <= pa) {
			/* Inside a hole: nothing to map (the table is empty). */
			pa = MIN(h->base + h->size, d->limit);
			continue;
		}
		u8 type = mtrr_type_run(d->mtrr, pa, d->limit, &end);
		if (h)
			end = MIN(end, h->base);
		if (pt_map(c, pa, pa, end - pa, d->attr | PT_MEMTYPE(type)))
			return -1;
		pa = end;
	}
	return 0;
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
