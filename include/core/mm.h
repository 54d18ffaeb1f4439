/* lamina's memory: its home (a range at the top of RAM the guest never
 * sees), pages and small objects allocated from it, and how lamina
 * reaches physical memory (the direct map). */
#ifndef CORE_MM_H
#define CORE_MM_H

#include <core/types.h>
#include <x86/boot_layout.h>

struct home {
	u64 base, size;      /* physical, 2 MiB aligned */
	u64 image_size;      /* lamina's image at the start of the home */
};
extern struct home home;

static inline void *phys_to_virt(u64 pa)
{
	return (void *)(uintptr_t)(DIRECT_MAP_BASE + pa);
}

u64 virt_to_phys(const void *va);

static inline bool in_home(u64 pa, u64 size)
{
	return pa < home.base + home.size && pa + size > home.base;
}

/* Zeroed blocks of 2^order pages; NULL when out of memory. */
void *page_alloc(unsigned int order);
void page_free(void *p, unsigned int order);
/* Zeroed small objects. */
void *kzalloc(size_t size);
void kfree(void *p);

/* Take [start, end) of the direct map as the allocator's pool. */
void mm_init(u64 start_pa, u64 end_pa);
size_t mm_free_pages(void);

#endif
