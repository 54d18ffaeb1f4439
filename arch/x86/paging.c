/* lamina's own page tables. At boot the 32-bit entry code maps the low
 * 4 GiB; here we map the home wherever it is, build the final tables in
 * it, copy the image there and switch. */
#include <core/log.h>
#include <core/mm.h>
#include <core/panic.h>
#include <core/spinlock.h>
#include <core/string.h>
#include <x86/cpu.h>
#include <x86/paging.h>

extern char _image_start[], _image_end[], _text_start[], _text_end[];
extern char _rodata_start[], _rodata_end[], _data_start[];
extern u64 boot_pml4[], boot_pdpt_low[];
void relocate_and_switch(void *dst, const void *src, u64 len, u64 cr3);

u64 host_cr3;
static struct pt_ctx host_pt;
static bool nx_ok;

u64 x86_pte_table(u64 pa)
{
	return pa | PTE_P | PTE_W | PTE_U;
}

u64 x86_pte_leaf(u64 pa, unsigned int level, u64 attr)
{
	u64 e = pa | PTE_P;

	if (!(attr & PT_R))
		return 0;
	if (attr & PT_W)
		e |= PTE_W;
	if (attr & PT_USER)
		e |= PTE_U;
	if (attr & PT_GLOBAL)
		e |= PTE_G;
	if (!(attr & PT_X) && nx_ok)
		e |= PTE_NX;
	if (PT_MEMTYPE_OF(attr) == MT_UC)
		e |= PTE_PCD | PTE_PWT;
	if (level > 1)
		e |= PTE_PS;
	return e;
}

u64 x86_pte_leaf_attr(u64 e, unsigned int level)
{
	u64 a = PT_R | PT_MEMTYPE(MT_WB);

	if (e & PTE_W)
		a |= PT_W;
	if (e & PTE_U)
		a |= PT_USER;
	if (e & PTE_G)
		a |= PT_GLOBAL;
	if (!(e & PTE_NX))
		a |= PT_X;
	if ((e & (PTE_PCD | PTE_PWT)) == (PTE_PCD | PTE_PWT))
		a = (a & ~PT_MEMTYPE(7)) | PT_MEMTYPE(MT_UC);
	return a;
}

bool x86_pte_present(u64 e)
{
	return e & PTE_P;
}

bool x86_pte_is_leaf(u64 e, unsigned int level)
{
	return level == 1 || (e & PTE_PS);
}

/* Host tables are supervisor-only. */
static u64 host_table(u64 pa)
{
	return pa | PTE_P | PTE_W;
}

static struct pt_format host_format = {
	.table = host_table,
	.leaf = x86_pte_leaf,
	.leaf_attr = x86_pte_leaf_attr,
	.present = x86_pte_present,
	.is_leaf = x86_pte_is_leaf,
	.addr_mask = PTE_ADDR_MASK,
	.max_leaf_level = 2,
};

/* Boot-time tables come from a small static pool: nothing else exists
 * before the home is mapped. */
static u64 early_pool[8][512] __aligned(4096);
static unsigned int early_used;

static u64 early_pa(const void *va)
{
	return (uintptr_t)va - KERNEL_VBASE; /* image still at its load address */
}

static u64 *early_table(void)
{
	if (early_used == ARRAY_SIZE(early_pool))
		panic("boot page-table pool exhausted");
	return early_pool[early_used++];
}

/* Whole GiBs around [pa, pa + size): one 1 GiB page each where the CPU
 * has them, else a table of 2 MiB pages (8 early tables then cover a home
 * of up to 4 GiB, see EARLY_MAP_MAX_NO_1G). */
void paging_early_map(u64 pa, u64 size)
{
	bool gib_pages = cpu_has_1g_pages();

	for (u64 a = ALIGN_DOWN(pa, GiB); a < pa + size; a += GiB) {
		u64 *pml4e = &boot_pml4[PML4_SLOT_DIRECT_MAP + (a >> 39)];
		if (!(*pml4e & PTE_P))
			*pml4e = early_pa(early_table()) | PTE_P | PTE_W;
		u64 *pdpt = phys_to_virt(*pml4e & PTE_ADDR_MASK);
		u64 *pdpte = &pdpt[(a >> 30) & 511];
		if (*pdpte & PTE_P)
			continue;
		if (gib_pages) {
			*pdpte = a | PTE_P | PTE_W | PTE_PS;
			continue;
		}
		u64 *pd = early_table();
		for (unsigned int i = 0; i < 512; i++)
			pd[i] = (a + i * 2 * MiB) | PTE_P | PTE_W | PTE_PS;
		*pdpte = early_pa(pd) | PTE_P | PTE_W;
	}
	flush_tlb_all_local();
}

void *pt_page_alloc(void *arg, u64 *pa)
{
	void *p = page_alloc(0);

	if (p)
		*pa = (uintptr_t)p - DIRECT_MAP_BASE;
	return p;
}

void *pt_page_va(void *arg, u64 pa)
{
	return phys_to_virt(pa);
}

static void map_image_part(const char *start, const char *end, u64 attr)
{
	u64 va = (uintptr_t)start;
	u64 size = ALIGN_UP((u64)(uintptr_t)end, PAGE_SIZE) - va;

	if (pt_map(&host_pt, va, va - (uintptr_t)_image_start + home.base, size, attr))
		panic("out of memory mapping lamina's image");
}

static u64 direct_map_top;

bool paging_in_direct_map(u64 pa, u64 size)
{
	return pa < direct_map_top && size <= direct_map_top - pa;
}

u64 paging_build_host(u64 dm_top)
{
	direct_map_top = dm_top;
	nx_ok = cpu_has(0x80000001, CPUID_EDX, 20);
	if (nx_ok)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	host_format.max_leaf_level = cpu_has_1g_pages() ? 3 : 2;
	host_pt = (struct pt_ctx){ .fmt = &host_format, .alloc_table = pt_page_alloc,
				   .table_va = pt_page_va };
	if (pt_init(&host_pt) ||
	    pt_map(&host_pt, DIRECT_MAP_BASE, 0, dm_top, PT_R | PT_W | PT_MEMTYPE(MT_WB)))
		panic("out of memory building lamina's page tables");
	map_image_part(_text_start, _text_end, PT_R | PT_X | PT_GLOBAL);
	map_image_part(_rodata_start, _rodata_end, PT_R | PT_GLOBAL);
	map_image_part(_data_start, _image_end, PT_R | PT_W | PT_GLOBAL);
	host_cr3 = host_pt.root_pa;
	return host_cr3;
}

void paging_relocate(u64 cr3)
{
	relocate_and_switch(phys_to_virt(home.base), _image_start,
			    (u64)(_image_end - _image_start), cr3);
}

static spinlock_t io_lock = SPINLOCK_INIT;
static u64 io_next = IO_MAP_BASE;

void *io_map(u64 pa, u64 size)
{
	u64 base = ALIGN_DOWN(pa, PAGE_SIZE);
	u64 len = ALIGN_UP(pa + size, PAGE_SIZE) - base;
	u64 va;

	/* Large, aligned ranges (ECAM) get a 2 MiB-aligned address so the
	 * builder can use large pages for them. */
	u64 align = len >= 2 * MiB && IS_ALIGNED(base, 2 * MiB) ? 2 * MiB : PAGE_SIZE;

	spin_lock(&io_lock);
	va = ALIGN_UP(io_next, align);
	io_next = va + len + PAGE_SIZE; /* a guard page between mappings */
	if (pt_map(&host_pt, va, base, len, PT_R | PT_W | PT_GLOBAL | PT_MEMTYPE(MT_UC)))
		panic("out of memory mapping device registers at %#llx", (unsigned long long)pa);
	spin_unlock(&io_lock);
	return (void *)(uintptr_t)(va + (pa - base));
}
