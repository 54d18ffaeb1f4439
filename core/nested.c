/* The guest's nested page tables: built once at boot by the shared
 * builder with the vendor's entry format; changed at run time only to
 * trap or release a few pages. */
#include <core/bootinfo.h>
#include <core/format.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/nested.h>
#include <core/panic.h>
#include <core/pci.h>
#include <core/spinlock.h>
#include <core/vcpu.h>
#include <x86/apic.h>
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

/* The end of everything the guest can reach that lamina knows of at
 * boot: the firmware's memory map (every type), the local APIC, PCI
 * BARs, bridge windows and ECAM, and 4 GiB (the I/O APICs, HPET and
 * firmware live below it). */
static u64 known_end(void)
{
	u64 end = MAX(4 * GiB, memmap_end_of(&boot_info.fw_map, 0));

	end = MAX(end, apic_base_pa() + PAGE_SIZE);
	return MAX(end, pci_decoded_end());
}

/* Why the guest cannot run: the tables for what it can reach do not fit
 * in the half of lamina's free memory they may take. */
static const char *too_little_memory(u64 reach, unsigned int max_leaf_level)
{
	static char why[256];
	struct nested_map_desc d = desc;

	d.limit = reach;
	u64 need = nested_map_tables(&d, max_leaf_level) * PAGE_SIZE;
	u64 mem = ALIGN_UP(home.size + 2 * need - mm_free_pages() * PAGE_SIZE, 8 * MiB);
	format(why, sizeof(why), "the nested page tables for [0, %#llx), the RAM and devices "
	       "the guest can reach, need %llu KiB without 1 GiB nested pages: more than half "
	       "of lamina's free memory; mem=%lluM would hold them",
	       (unsigned long long)d.limit, (unsigned long long)(need >> 10),
	       (unsigned long long)(mem / MiB));
	return why;
}

/* Everything up to 2^MAXPHYADDR (at most the direct map's 2^46), unless
 * its tables would take more than half of lamina's free memory (without
 * 1 GiB nested pages, 4 KiB per GiB: 256 MiB for 2^46); then as far as
 * that half allows, but always up to known_end. Above the limit the
 * guest finds nothing (core/mmio.c: all-ones, writes dropped). */
static const char *choose_limit(unsigned int max_leaf_level)
{
	u64 full = 1ull << MIN(cpu_phys_bits(), 46u), known = known_end();

	desc.limit = full;
	desc.limit = nested_map_limit(&desc, known, mm_free_pages() / 2, max_leaf_level);
	if (!desc.limit)
		return too_little_memory(MIN(ALIGN_UP(known, GiB), full), max_leaf_level);
	if (desc.limit < full)
		log_warn("nested page tables: without 1 GiB nested pages, mapping all of "
			 "[0, %#llx) would take too much of lamina's memory; they end at %#llx "
			 "(what lamina knows the guest can reach ends at %#llx), and above that "
			 "the guest reads all-ones; a larger mem= maps more",
			 (unsigned long long)full, (unsigned long long)desc.limit,
			 (unsigned long long)known);
	return NULL;
}

const char *nested_init(void)
{
	unsigned long n[4];
	const char *why;

	mtrr_read(&mtrr, cpu_phys_bits());
	holes[0] = (struct mem_range){ home.base, home.size, MEM_RESERVED };
	desc = (struct nested_map_desc){ .holes = holes, .nholes = 1, .mtrr = &mtrr,
					 .attr = NESTED_ATTR };
	if ((why = choose_limit(vendor->nested_format->max_leaf_level)))
		return why;
	pt = (struct pt_ctx){ .fmt = vendor->nested_format, .alloc_table = pt_page_alloc,
			      .table_va = pt_page_va };
	if (pt_init(&pt) || nested_map_build(&pt, &desc))
		panic("out of memory building the nested page tables");
	pt_count_leaves(&pt, 0, desc.limit, n);
	log_info("nested page tables: identity map of [0, %#llx) less lamina's home: "
		 "%lu x 1 GiB, %lu x 2 MiB, %lu x 4 KiB pages, %lu tables",
		 (unsigned long long)desc.limit, n[3], n[2], n[1], pt.tables);
	return NULL;
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
