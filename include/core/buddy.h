/* A buddy allocator of 4 KiB pages over one contiguous region. Blocks of
 * 2^order pages, naturally aligned within the region. One ticket lock:
 * safe when every CPU allocates and frees at once. */
#ifndef CORE_BUDDY_H
#define CORE_BUDDY_H

#include <core/spinlock.h>
#include <core/types.h>

#define BUDDY_MAX_ORDER 11 /* blocks up to 8 MiB */

struct buddy_block {
	struct buddy_block *next, *prev;
};

struct buddy {
	spinlock_t lock;
	uintptr_t base;        /* first managed page */
	size_t npages;
	u8 *meta;              /* per page: BUDDY_FREE | order, for block heads */
	struct buddy_block free[BUDDY_MAX_ORDER + 1]; /* circular list heads */
	size_t free_pages;
};

/* Manage [start, start + size): page metadata is taken from its front. */
void buddy_init(struct buddy *b, uintptr_t start, size_t size);
void *buddy_alloc(struct buddy *b, unsigned int order);
/* Returns -1 (and changes nothing) for a pointer that is not an allocated
 * block of that order: a double free or a bad pointer. */
int buddy_free(struct buddy *b, void *p, unsigned int order);
/* The order of the allocated block that starts at p; -1 when p is not
 * the first page of an allocated block (free, inside a block, outside
 * the region). */
int buddy_block_order(struct buddy *b, const void *p);
size_t buddy_free_pages(struct buddy *b);
/* Walks every free list and checks the structure; returns 0 if sound. */
int buddy_check(struct buddy *b);

#endif
