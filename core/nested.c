/* The guest's nested page tables: built once at boot by the shared
 * builder with the vendor's entry format; changed at run time only to
 * trap or release a few pages. */
#include <core/log.h>
#include <core/mm.h>
#include <core/nested.h>
#include <core/panic.h>
#include <core/spinlock.h>
#include <core/vcpu.h>
#include <x86/cpu.h>
#include <x86/nested_map.h>
#include <x86/paging.h>

#define NESTED_ATTR (PT_RWX | PT_USER)

static struct pt_ctx pt;
static struct nested_map_desc desc;
static struct mtrr_state mtrr;
static struct mem_range holes[1];
static spinlock_t lock = SPINLOCK_INIT;
static u64 generation;

u64 nested_root(void)
{
	return pt.root_pa;
}

u64 nested_limit(void)
{
	return desc.limit;
}

u64 nested_init(void)
{
	unsigned long n[4];
	unsigned int bits = MIN(cpu_phys_bits(), 46u);

	mtrr_read(&mtrr, cpu_phys_bits());
	holes[0] = (struct mem_range){ home.base, home.size, MEM_RESERVED };
	desc = (struct nested_map_desc){
		.limit = 1ull << bits, .holes = holes, .nholes = 1,
		.mtrr = &mtrr, .attr = NESTED_ATTR,
	};
	pt = (struct pt_ctx){ .fmt = vendor->nested_format, .alloc_table = pt_page_alloc,
			      .table_va = pt_page_va };
	if (pt_init(&pt) || nested_map_build(&pt, &desc))
		panic("out of memory building the nested page tables");
	pt_count_leaves(&pt, 0, desc.limit, n);
	log_info("nested page tables: identity map of [0, %#llx) less lamina's home: "
		 "%lu x 1 GiB, %lu x 2 MiB, %lu x 4 KiB pages, %lu tables",
		 (unsigned long long)desc.limit, n[3], n[2], n[1], pt.tables);
	return pt.root_pa;
}

int nested_protect(u64 pa, u64 size, u64 attr)
{
	int r;

	spin_lock(&lock);
	r = nested_map_protect(&pt, &desc, pa, size, attr ? attr | PT_USER : 0);
	__atomic_fetch_add(&generation, 1, __ATOMIC_RELEASE);
	spin_unlock(&lock);
	return r;
}

int nested_restore(u64 pa, u64 size)
{
	return nested_protect(pa, size, in_home(pa, size) ? 0 : NESTED_ATTR);
}

bool nested_allows(u64 pa, bool write, bool fetch)
{
	u64 e;
	unsigned int level = pt_lookup(&pt, pa, &e, NULL);

	if (!level)
		return false;
	u64 attr = pt.fmt->leaf_attr(e, level);
	return (attr & PT_R) && (!write || (attr & PT_W)) && (!fetch || (attr & PT_X));
}

void nested_sync(struct vcpu *v)
{
	u64 g = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);

	if (v->nested_gen != g) {
		v->nested_gen = g;
		vendor->flush_nested(v);
	}
}
