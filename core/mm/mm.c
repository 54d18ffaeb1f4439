/* The global page allocator and heap over lamina's home. */
#include <core/buddy.h>
#include <core/heap.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/panic.h>
#include <core/string.h>

struct home home;
static struct buddy pages;
static struct heap heap;

extern char _image_start[], _image_end[];

void mm_init(u64 start_pa, u64 end_pa)
{
	buddy_init(&pages, (uintptr_t)phys_to_virt(start_pa), end_pa - start_pa);
	heap_init(&heap, &pages);
}

u64 virt_to_phys(const void *va)
{
	uintptr_t a = (uintptr_t)va;

	if (a >= (uintptr_t)_image_start && a < (uintptr_t)_image_end)
		return a - (uintptr_t)_image_start + home.base;
	if (a >= DIRECT_MAP_BASE && a < IO_MAP_BASE)
		return a - DIRECT_MAP_BASE;
	panic("virt_to_phys: %p is neither image nor direct map", va);
}

void *page_alloc(unsigned int order)
{
	void *p = buddy_alloc(&pages, order);

	if (p)
		memset(p, 0, PAGE_SIZE << order);
	return p;
}

void page_free(void *p, unsigned int order)
{
	if (buddy_free(&pages, p, order))
		panic("page_free: %p is not an allocated block of order %u", p, order);
}

void *kzalloc(size_t size)
{
	return heap_alloc(&heap, size);
}

void kfree(void *p)
{
	int r = heap_free(&heap, p);

	if (r)
		panic("kfree: %p %s", p, r == HEAP_FREE_TWICE ? "freed twice"
			: "is not a heap object (freed already, or never from kzalloc)");
}

size_t mm_free_pages(void)
{
	return buddy_free_pages(&pages);
}
