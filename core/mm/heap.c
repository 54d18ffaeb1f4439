/* Slab-style heap. Every page handed out by the heap starts with a
 * header, so heap_free() finds an object's size class (or a large
 * block's order) from the page the pointer lies in. A free is checked
 * before it changes anything: the page must be a block the buddy
 * allocator gave out, with the heap's header, and the pointer where an
 * object starts that is in use (a bit per object says which). */
#include <core/heap.h>
#include <core/string.h>

#define HEAP_MAGIC 0x48454150u /* "HEAP" */
#define HEAP_LARGE 0xff
#define MIN_SHIFT 4

struct heap_object {
	struct heap_object *next;
};

#define HEADER_SIZE 64 /* objects start here, 16-aligned */
#define MAX_OBJECTS ((PAGE_SIZE - HEADER_SIZE) >> MIN_SHIFT) /* of the smallest class */

struct heap_page {
	u32 magic;
	u8 class;                 /* size class, or HEAP_LARGE */
	u8 order;                 /* large blocks: buddy order */
	u16 nfree;
	struct heap_object *free; /* free objects in this page */
	struct heap_page *next, *prev; /* in the class's partial list */
	u64 in_use[(MAX_OBJECTS + 63) / 64]; /* a bit per object, set while allocated */
};

STATIC_ASSERT(sizeof(struct heap_page) <= HEADER_SIZE, "heap page header size");

static size_t class_size(unsigned int c)
{
	return (size_t)1 << (c + MIN_SHIFT);
}

static unsigned int objects_per_page(unsigned int c)
{
	return (PAGE_SIZE - HEADER_SIZE) / class_size(c);
}

static void *object_at(struct heap_page *pg, unsigned int c, unsigned int i)
{
	return (char *)pg + HEADER_SIZE + i * class_size(c);
}

static unsigned int object_index(const struct heap_page *pg, unsigned int c, const void *o)
{
	return (unsigned int)(((uintptr_t)o - (uintptr_t)pg - HEADER_SIZE) / class_size(c));
}

static void mark_in_use(struct heap_page *pg, unsigned int i, bool used)
{
	if (used)
		pg->in_use[i / 64] |= BIT(i % 64);
	else
		pg->in_use[i / 64] &= ~BIT(i % 64);
}

static bool in_use(const struct heap_page *pg, unsigned int i)
{
	return pg->in_use[i / 64] & BIT(i % 64);
}

void heap_init(struct heap *h, struct buddy *pages)
{
	h->lock = (spinlock_t)SPINLOCK_INIT;
	h->pages = pages;
	for (unsigned int c = 0; c < HEAP_NCLASSES; c++)
		h->classes[c].partial = NULL;
	h->live_objects = 0;
}

static void partial_add(struct heap_class *hc, struct heap_page *pg)
{
	pg->prev = NULL;
	pg->next = hc->partial;
	if (hc->partial)
		hc->partial->prev = pg;
	hc->partial = pg;
}

static void partial_del(struct heap_class *hc, struct heap_page *pg)
{
	if (pg->prev)
		pg->prev->next = pg->next;
	else
		hc->partial = pg->next;
	if (pg->next)
		pg->next->prev = pg->prev;
	pg->next = pg->prev = NULL;
}

static struct heap_page *new_slab(struct heap *h, unsigned int c)
{
	struct heap_page *pg = buddy_alloc(h->pages, 0);

	if (!pg)
		return NULL;
	pg->magic = HEAP_MAGIC;
	pg->class = c;
	pg->order = 0;
	pg->free = NULL;
	pg->nfree = 0;
	memset(pg->in_use, 0, sizeof(pg->in_use));
	for (unsigned int i = 0; i < objects_per_page(c); i++) {
		struct heap_object *o = object_at(pg, c, i);
		o->next = pg->free;
		pg->free = o;
		pg->nfree++;
	}
	return pg;
}

static void *alloc_large(struct heap *h, size_t size)
{
	unsigned int order = 0;

	/* Also keeps size + HEADER_SIZE from wrapping. */
	if (size > ((size_t)PAGE_SIZE << BUDDY_MAX_ORDER) - HEADER_SIZE)
		return NULL;
	while (((size_t)PAGE_SIZE << order) < size + HEADER_SIZE)
		if (++order > BUDDY_MAX_ORDER)
			return NULL;
	struct heap_page *pg = buddy_alloc(h->pages, order);
	if (!pg)
		return NULL;
	pg->magic = HEAP_MAGIC;
	pg->class = HEAP_LARGE;
	pg->order = order;
	void *p = (char *)pg + HEADER_SIZE;
	memset(p, 0, size);
	__atomic_fetch_add(&h->live_objects, 1, __ATOMIC_RELAXED);
	return p;
}

void *heap_alloc(struct heap *h, size_t size)
{
	unsigned int c = 0;

	if (!size)
		size = 1;
	while (c < HEAP_NCLASSES && class_size(c) < size)
		c++;
	if (c == HEAP_NCLASSES)
		return alloc_large(h, size);
	spin_lock(&h->lock);
	struct heap_class *hc = &h->classes[c];
	struct heap_page *pg = hc->partial;
	if (!pg) {
		pg = new_slab(h, c);
		if (!pg) {
			spin_unlock(&h->lock);
			return NULL;
		}
		partial_add(hc, pg);
	}
	struct heap_object *o = pg->free;
	pg->free = o->next;
	mark_in_use(pg, object_index(pg, c, o), true);
	if (--pg->nfree == 0)
		partial_del(hc, pg);
	/* Atomic even under the lock: large blocks are counted outside it. */
	__atomic_fetch_add(&h->live_objects, 1, __ATOMIC_RELAXED);
	spin_unlock(&h->lock);
	memset(o, 0, class_size(c));
	return o;
}

static int free_large(struct heap *h, struct heap_page *pg)
{
	pg->magic = 0;
	if (buddy_free(h->pages, pg, pg->order))
		return HEAP_FREE_FOREIGN;
	__atomic_fetch_sub(&h->live_objects, 1, __ATOMIC_RELAXED);
	return 0;
}

static int free_small(struct heap *h, struct heap_page *pg, void *p)
{
	unsigned int c = pg->class, i;
	struct heap_class *hc = &h->classes[c];
	struct heap_object *o = p;

	if ((uintptr_t)p < (uintptr_t)object_at(pg, c, 0))
		return HEAP_FREE_FOREIGN; /* in the header */
	i = object_index(pg, c, p);
	if (i >= objects_per_page(c) || p != object_at(pg, c, i))
		return HEAP_FREE_FOREIGN; /* in the page's tail, or inside an object */
	if (!in_use(pg, i))
		return HEAP_FREE_TWICE;
	mark_in_use(pg, i, false);
	o->next = pg->free;
	pg->free = o;
	__atomic_fetch_sub(&h->live_objects, 1, __ATOMIC_RELAXED);
	if (++pg->nfree == 1)
		partial_add(hc, pg);
	/* Give an empty page back, but keep one per class to avoid churn. */
	if (pg->nfree == objects_per_page(c) && (hc->partial != pg || pg->next)) {
		partial_del(hc, pg);
		pg->magic = 0;
		buddy_free(h->pages, pg, 0);
	}
	return 0;
}

/* Under the heap's lock, so that two frees of one object (or of two in
 * one page) are checked one after the other. The header is read only
 * once the buddy allocator says the page heads a block it gave out. */
static int free_locked(struct heap *h, struct heap_page *pg, void *p)
{
	int order = buddy_block_order(h->pages, pg);

	if (order < 0 || pg->magic != HEAP_MAGIC)
		return HEAP_FREE_FOREIGN;
	if (pg->class == HEAP_LARGE)
		return order == pg->order && p == (char *)pg + HEADER_SIZE ? free_large(h, pg)
									  : HEAP_FREE_FOREIGN;
	if (pg->class >= HEAP_NCLASSES || order != 0)
		return HEAP_FREE_FOREIGN;
	return free_small(h, pg, p);
}

int heap_free(struct heap *h, void *p)
{
	int r;

	if (!p)
		return 0;
	spin_lock(&h->lock);
	r = free_locked(h, (void *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE), p);
	spin_unlock(&h->lock);
	return r;
}

size_t heap_live_objects(struct heap *h)
{
	return __atomic_load_n(&h->live_objects, __ATOMIC_RELAXED);
}
