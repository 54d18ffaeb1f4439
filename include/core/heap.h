/* A small object heap on top of a buddy allocator: size classes from 16
 * to 2048 bytes carved out of single pages, larger requests as whole
 * blocks. Safe on all CPUs at once. */
#ifndef CORE_HEAP_H
#define CORE_HEAP_H

#include <core/buddy.h>

#define HEAP_NCLASSES 8 /* 16 .. 2048 bytes */

struct heap_class {
	struct heap_page *partial; /* pages with free objects */
};

struct heap {
	spinlock_t lock;
	struct buddy *pages;
	struct heap_class classes[HEAP_NCLASSES];
	size_t live_objects;
};

void heap_init(struct heap *h, struct buddy *pages);
void *heap_alloc(struct heap *h, size_t size); /* zeroed; NULL if out of memory */
/* 0 (NULL included); HEAP_FREE_FOREIGN for a pointer that is not where
 * a heap object starts (outside the heap's pages, inside an object, a
 * page the heap does not own, a large block freed already);
 * HEAP_FREE_TWICE for a small object already free. A refused free
 * changes nothing. */
#define HEAP_FREE_FOREIGN (-1)
#define HEAP_FREE_TWICE (-2)
int heap_free(struct heap *h, void *p);
size_t heap_live_objects(struct heap *h);

#endif
