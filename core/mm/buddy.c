/* Buddy page allocator: per-order circular free lists threaded through
 * the free blocks themselves, one metadata byte per page. */
#include <core/buddy.h>

#define BUDDY_FREE 0x80
#define BUDDY_ORDER_MASK 0x1f
#define BUDDY_USED_HEAD 0x40 /* first page of an allocated block */

static void list_init(struct buddy_block *h)
{
	h->next = h->prev = h;
}

static void list_add(struct buddy_block *h, struct buddy_block *e)
{
	e->next = h->next;
	e->prev = h;
	h->next->prev = e;
	h->next = e;
}

static void list_del(struct buddy_block *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static size_t page_index(struct buddy *b, const void *p)
{
	return ((uintptr_t)p - b->base) >> PAGE_SHIFT;
}

static void *page_at(struct buddy *b, size_t idx)
{
	return (void *)(b->base + (idx << PAGE_SHIFT));
}

static void push_free(struct buddy *b, size_t idx, unsigned int order)
{
	b->meta[idx] = BUDDY_FREE | order;
	list_add(&b->free[order], page_at(b, idx));
}

static void pop_free(struct buddy *b, size_t idx)
{
	b->meta[idx] = 0;
	list_del(page_at(b, idx));
}

void buddy_init(struct buddy *b, uintptr_t start, size_t size)
{
	uintptr_t s = ALIGN_UP(start, PAGE_SIZE);
	/* The region may end before its first whole page. */
	size_t total = start + size > s ? (start + size - s) >> PAGE_SHIFT : 0;
	size_t meta_pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;

	b->lock = (spinlock_t)SPINLOCK_INIT;
	for (unsigned int o = 0; o <= BUDDY_MAX_ORDER; o++)
		list_init(&b->free[o]);
	b->free_pages = 0;
	b->npages = 0;
	if (total <= meta_pages)
		return;
	b->meta = (u8 *)s;
	b->base = s + meta_pages * PAGE_SIZE;
	b->npages = total - meta_pages;
	for (size_t i = 0; i < b->npages; i++)
		b->meta[i] = 0;
	/* Seed with the largest aligned blocks that fit. */
	for (size_t i = 0; i < b->npages;) {
		unsigned int o = BUDDY_MAX_ORDER;
		while (o && ((i & ((1ul << o) - 1)) || i + (1ul << o) > b->npages))
			o--;
		push_free(b, i, o);
		b->free_pages += 1ul << o;
		i += 1ul << o;
	}
}

void *buddy_alloc(struct buddy *b, unsigned int order)
{
	unsigned int o = order;
	size_t idx;

	if (order > BUDDY_MAX_ORDER)
		return NULL;
	spin_lock(&b->lock);
	while (o <= BUDDY_MAX_ORDER && b->free[o].next == &b->free[o])
		o++;
	if (o > BUDDY_MAX_ORDER) {
		spin_unlock(&b->lock);
		return NULL;
	}
	idx = page_index(b, b->free[o].next);
	pop_free(b, idx);
	/* Split, returning upper halves to the free lists. */
	while (o > order) {
		o--;
		push_free(b, idx + (1ul << o), o);
	}
	b->meta[idx] = BUDDY_USED_HEAD | order;
	b->free_pages -= 1ul << order;
	spin_unlock(&b->lock);
	return page_at(b, idx);
}

int buddy_free(struct buddy *b, void *p, unsigned int order)
{
	uintptr_t a = (uintptr_t)p;
	size_t idx;

	if (a < b->base || (a & (PAGE_SIZE - 1)) || order > BUDDY_MAX_ORDER)
		return -1;
	idx = page_index(b, p);
	if (idx >= b->npages || (idx & ((1ul << order) - 1)))
		return -1;
	spin_lock(&b->lock);
	if (b->meta[idx] != (BUDDY_USED_HEAD | order)) {
		spin_unlock(&b->lock);
		return -1;
	}
	b->meta[idx] = 0;
	b->free_pages += 1ul << order;
	while (order < BUDDY_MAX_ORDER) {
		size_t buddy = idx ^ (1ul << order);
		if (buddy + (1ul << order) > b->npages ||
		    b->meta[buddy] != (BUDDY_FREE | order))
			break;
		pop_free(b, buddy);
		idx &= ~(1ul << order);
		order++;
	}
	push_free(b, idx, order);
	spin_unlock(&b->lock);
	return 0;
}

int buddy_block_order(struct buddy *b, const void *p)
{
	uintptr_t a = (uintptr_t)p;
	int order = -1;
	u8 m;

	if (a < b->base || (a & (PAGE_SIZE - 1)) || page_index(b, p) >= b->npages)
		return -1;
	spin_lock(&b->lock);
	m = b->meta[page_index(b, p)];
	spin_unlock(&b->lock);
	if (m & BUDDY_USED_HEAD)
		order = m & BUDDY_ORDER_MASK;
	return order;
}

size_t buddy_free_pages(struct buddy *b)
{
	return __atomic_load_n(&b->free_pages, __ATOMIC_RELAXED);
}

int buddy_check(struct buddy *b)
{
	size_t counted = 0;
	int bad = 0;

	spin_lock(&b->lock);
	for (unsigned int o = 0; o <= BUDDY_MAX_ORDER; o++) {
		for (struct buddy_block *e = b->free[o].next; e != &b->free[o]; e = e->next) {
			size_t idx = page_index(b, e);
			if (idx >= b->npages || (idx & ((1ul << o) - 1)) ||
			    b->meta[idx] != (BUDDY_FREE | o) || e->next->prev != e)
				bad = 1;
			/* A free block whose free buddy has the same order
			 * should have been merged. */
			size_t buddy = idx ^ (1ul << o);
			if (o < BUDDY_MAX_ORDER && buddy < b->npages &&
			    b->meta[buddy] == (BUDDY_FREE | o))
				bad = 1;
			counted += 1ul << o;
			if (counted > b->npages) {
				bad = 1;
				break;
			}
		}
	}
	if (counted != b->free_pages)
		bad = 1;
	spin_unlock(&b->lock);
	return bad ? -1 : 0;
}
