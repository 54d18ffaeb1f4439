/* core/mm/heap.c on a buddy allocator over host memory: every size class
 * and large sizes, zeroing, 16-byte alignment, pages given back, live
 * counts, double and foreign frees refused, and threads allocating at
 * once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <core/heap.h>

#include "host_env.h"

#define LARGEST_BLOCK (PAGE_SIZE << BUDDY_MAX_ORDER)

struct env {
	u8 *mem;
	struct buddy b;
	struct heap h;
	size_t free0;
};

static struct env *env_new(size_t size)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->mem = aligned_alloc(PAGE_SIZE, size);
	assert_non_null(e->mem);
	buddy_init(&e->b, (uintptr_t)e->mem, size);
	heap_init(&e->h, &e->b);
	e->free0 = buddy_free_pages(&e->b);
	return e;
}

static void env_free(struct env *e)
{
	free(e->mem);
	free(e);
}

static int setup(void **state)
{
	*state = env_new(32 * MiB + 2 * PAGE_SIZE);
	return 0;
}

static int teardown(void **state)
{
	env_free(*state);
	return 0;
}

/* The class a small request lands in: the next power of two from 16. */
static size_t class_of(size_t n)
{
	size_t c = 16;

	while (c < n)
		c <<= 1;
	return c;
}

static bool all_zero(const u8 *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static u64 rng_state = 0x13198a2e03707344ull;

struct span {
	uintptr_t a, b;
};

static int span_cmp(const void *x, const void *y)
{
	const struct span *p = x, *q = y;

	return p->a < q->a ? -1 : p->a > q->a;
}

/* No two live objects share a byte. */
static void assert_disjoint(struct span *s, size_t n)
{
	qsort(s, n, sizeof(*s), span_cmp);
	for (size_t i = 1; i < n; i++)
		assert_true(s[i - 1].b <= s[i].a);
}

/* ---- small objects ---- */

static void test_every_small_size(void **state)
{
	struct env *e = *state;
	enum { PER_SIZE = 3 };
	struct span *s = calloc(2048 * PER_SIZE, sizeof(*s));
	void **p = calloc(2048 * PER_SIZE, sizeof(*p));
	size_t n = 0;

	for (size_t size = 1; size <= 2048; size++) {
		for (int k = 0; k < PER_SIZE; k++) {
			u8 *o = heap_alloc(&e->h, size);
			assert_non_null(o);
			assert_int_equal((uintptr_t)o % 16, 0);
			assert_true(all_zero(o, size));
			/* Inside the buddy's pages. */
			assert_true((uintptr_t)o >= e->b.base);
			assert_true((uintptr_t)o + size <= e->b.base + e->b.npages * PAGE_SIZE);
			/* Within one page: a small object never straddles two. */
			assert_int_equal((uintptr_t)o / PAGE_SIZE,
					 ((uintptr_t)o + class_of(size) - 1) / PAGE_SIZE);
			memset(o, 0xc3, size);
			s[n] = (struct span){ (uintptr_t)o, (uintptr_t)o + class_of(size) };
			p[n++] = o;
		}
	}
	assert_int_equal(heap_live_objects(&e->h), n);
	assert_disjoint(s, n);
	for (size_t i = 0; i < n; i++)
		heap_free(&e->h, p[i]);
	assert_int_equal(heap_live_objects(&e->h), 0);
	assert_int_equal(buddy_check(&e->b), 0);
	free(s);
	free(p);
}

/* Objects of one class fill their pages: many objects take few pages. */
static void test_pages_per_class(void **state)
{
	struct env *e = *state;
	enum { K = 1000 };
	void **p = calloc(K, sizeof(*p));

	for (size_t c = 16; c <= 2048; c <<= 1) {
		size_t before = buddy_free_pages(&e->b);
		for (int i = 0; i < K; i++)
			assert_non_null(p[i] = heap_alloc(&e->h, c));
		size_t used = before - buddy_free_pages(&e->b);
		/* A page holds at most 4096 / c objects, and at least what
		 * is left after a header of up to 64 bytes. */
		size_t most = PAGE_SIZE / c, least = (PAGE_SIZE - 64) / c;
		assert_true(used >= (K + most - 1) / most);
		assert_true(used <= (K + least - 1) / least + 1);
		for (int i = 0; i < K; i++)
			heap_free(&e->h, p[i]);
	}
	free(p);
}

static void test_zeroed_on_reuse(void **state)
{
	struct env *e = *state;
	static const size_t sizes[] = { 1, 15, 16, 17, 100, 511, 512, 1000, 2047, 2048,
					2049, 4000, 4096, 10000, 70000 };

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		void *held[64];
		/* Dirty many, free them, allocate again: all come back zero. */
		for (int k = 0; k < 64; k++) {
			held[k] = heap_alloc(&e->h, sizes[i]);
			assert_non_null(held[k]);
			memset(held[k], 0xff, sizes[i]);
		}
		for (int k = 0; k < 64; k++)
			heap_free(&e->h, held[k]);
		for (int k = 0; k < 64; k++) {
			held[k] = heap_alloc(&e->h, sizes[i]);
			assert_true(all_zero(held[k], sizes[i]));
		}
		for (int k = 0; k < 64; k++)
			heap_free(&e->h, held[k]);
	}
	/* Zero bytes: a valid, distinct pointer each time. */
	void *a = heap_alloc(&e->h, 0), *b = heap_alloc(&e->h, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	heap_free(&e->h, a);
	heap_free(&e->h, b);
	assert_int_equal(heap_live_objects(&e->h), 0);
}

/* ---- large objects ---- */

static void test_large(void **state)
{
	struct env *e = *state;
	static const size_t sizes[] = {
		2049, 3000, 4000, 4033, 4096, 4097, 8000, 8192, 12345, 65536,
		MiB, 3 * MiB + 5, 4 * MiB, LARGEST_BLOCK - PAGE_SIZE,
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i], before = buddy_free_pages(&e->b);
		u8 *p = heap_alloc(&e->h, size);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		assert_true(all_zero(p, size));
		memset(p, 0x77, size);
		assert_true((uintptr_t)p + size <= e->b.base + e->b.npages * PAGE_SIZE);
		/* One buddy block, as small as a header allows. */
		size_t pages = before - buddy_free_pages(&e->b);
		assert_true(pages && !(pages & (pages - 1)));
		assert_true(pages * PAGE_SIZE >= size);
		assert_true(pages == 1 || pages / 2 * PAGE_SIZE < size + 128);
		assert_int_equal(heap_live_objects(&e->h), 1);
		heap_free(&e->h, p);
		assert_int_equal(buddy_free_pages(&e->b), before);
		assert_int_equal(heap_live_objects(&e->h), 0);
	}
	assert_int_equal(buddy_check(&e->b), 0);
}

static void test_too_large(void **state)
{
	struct env *e = *state;
	static const size_t sizes[] = {
		LARGEST_BLOCK + 1, 2 * LARGEST_BLOCK, SIZE_MAX / 2,
		SIZE_MAX - PAGE_SIZE, SIZE_MAX - 64, SIZE_MAX - 63, SIZE_MAX - 1, SIZE_MAX,
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		assert_null(heap_alloc(&e->h, sizes[i]));
		assert_int_equal(buddy_free_pages(&e->b), e->free0);
		assert_int_equal(heap_live_objects(&e->h), 0);
	}
}

/* ---- pages given back ---- */

static void test_free_returns_pages(void **state)
{
	struct env *e = *state;
	enum { N = 6000 };
	void **p = calloc(N, sizeof(*p));
	size_t after_first = 0;

	for (int round = 0; round < 3; round++) {
		unsigned int classes = 0;
		for (int i = 0; i < N; i++) {
			size_t size = host_rand(&rng_state) % 8 ? 1 + host_rand(&rng_state) % 2048
							     : 2049 + host_rand(&rng_state) % 20000;
			assert_non_null(p[i] = heap_alloc(&e->h, size));
			if (size <= 2048)
				classes |= class_of(size);
		}
		assert_int_equal(heap_live_objects(&e->h), N);
		for (int i = N; i > 1; i--) {
			int j = (int)(host_rand(&rng_state) % (u64)i);
			void *t = p[i - 1];
			p[i - 1] = p[j];
			p[j] = t;
		}
		for (int i = 0; i < N; i++) {
			heap_free(&e->h, p[i]);
			assert_int_equal(heap_live_objects(&e->h), N - i - 1);
		}
		assert_int_equal(buddy_check(&e->b), 0);
		/* Everything is back but at most one empty page per class. */
		size_t kept = e->free0 - buddy_free_pages(&e->b);
		assert_true(kept <= (size_t)__builtin_popcount(classes));
		if (!round)
			after_first = buddy_free_pages(&e->b);
		else
			assert_int_equal(buddy_free_pages(&e->b), after_first);
	}
	free(p);
}

static void test_free_null_and_counts(void **state)
{
	struct env *e = *state;
	void *a = heap_alloc(&e->h, 24), *b = heap_alloc(&e->h, 5000);

	assert_int_equal(heap_live_objects(&e->h), 2);
	heap_free(&e->h, NULL);
	assert_int_equal(heap_live_objects(&e->h), 2);
	heap_free(&e->h, b);
	assert_int_equal(heap_live_objects(&e->h), 1);
	heap_free(&e->h, a);
	assert_int_equal(heap_live_objects(&e->h), 0);
}

/* ---- refused frees ---- */

/* A refused free changes nothing: the count, the pages, and the objects
 * that stay allocated. */
static void expect_refused(struct env *e, void *p, int why)
{
	size_t live = heap_live_objects(&e->h), pages = buddy_free_pages(&e->b);

	assert_int_equal(heap_free(&e->h, p), why);
	assert_int_equal(heap_live_objects(&e->h), live);
	assert_int_equal(buddy_free_pages(&e->b), pages);
	assert_int_equal(buddy_check(&e->b), 0);
}

static void test_double_free(void **state)
{
	struct env *e = *state;
	u8 *keep = heap_alloc(&e->h, 100), *a = heap_alloc(&e->h, 100);
	u8 *big = heap_alloc(&e->h, 3 * PAGE_SIZE);

	memset(keep, 0x3c, 100);
	assert_int_equal(heap_free(&e->h, a), 0);
	expect_refused(e, a, HEAP_FREE_TWICE);
	/* Put on the free list once: two allocations get two objects. */
	u8 *x = heap_alloc(&e->h, 100), *y = heap_alloc(&e->h, 100);
	assert_ptr_not_equal(x, y);
	assert_int_equal(heap_free(&e->h, x), 0);
	assert_int_equal(heap_free(&e->h, y), 0);

	assert_int_equal(heap_free(&e->h, big), 0);
	expect_refused(e, big, HEAP_FREE_FOREIGN);

	/* An object whose page went back to the buddy allocator: the first
	 * of a second slab of the class, emptied last (the heap keeps one
	 * partly used page per class, here keep's). */
	void *fill[PAGE_SIZE / 128];
	unsigned int n = 0;
	do
		fill[n++] = heap_alloc(&e->h, 100);
	while (n < ARRAY_SIZE(fill) &&
	       (uintptr_t)fill[n - 1] / PAGE_SIZE == (uintptr_t)keep / PAGE_SIZE);
	u8 *other_page = fill[n - 1];
	assert_int_not_equal((uintptr_t)other_page / PAGE_SIZE, (uintptr_t)keep / PAGE_SIZE);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(heap_free(&e->h, fill[i]), 0);
	expect_refused(e, other_page, HEAP_FREE_FOREIGN);

	for (int i = 0; i < 100; i++)
		assert_int_equal(keep[i], 0x3c);
	assert_int_equal(heap_free(&e->h, keep), 0);
	assert_int_equal(heap_live_objects(&e->h), 0);
}

static void test_foreign_free(void **state)
{
	struct env *e = *state;
	u8 *small = heap_alloc(&e->h, 64), *big = heap_alloc(&e->h, 5 * PAGE_SIZE);
	u8 *page = buddy_alloc(&e->b, 0), *header_copy = buddy_alloc(&e->b, 0);
	u8 *slab = (u8 *)ALIGN_DOWN((uintptr_t)small, PAGE_SIZE);
	int on_stack;

	assert_int_equal(heap_free(&e->h, NULL), 0);
	/* Not in the heap's pages. */
	expect_refused(e, &on_stack, HEAP_FREE_FOREIGN);
	expect_refused(e, e->mem, HEAP_FREE_FOREIGN); /* the buddy's metadata */
	expect_refused(e, (void *)(e->b.base + e->b.npages * PAGE_SIZE + 64), HEAP_FREE_FOREIGN);
	/* Not where an object starts. */
	expect_refused(e, small + 16, HEAP_FREE_FOREIGN);
	expect_refused(e, small + 1, HEAP_FREE_FOREIGN);
	expect_refused(e, slab, HEAP_FREE_FOREIGN);      /* the header */
	expect_refused(e, slab + PAGE_SIZE - 16, HEAP_FREE_FOREIGN); /* past the last object */
	expect_refused(e, big + 16, HEAP_FREE_FOREIGN);
	expect_refused(e, big + PAGE_SIZE, HEAP_FREE_FOREIGN); /* a later page of the block */
	/* Pages the heap does not own: zeroed, and a copy of a slab's header
	 * with its class byte (after the 32-bit magic) past the classes. */
	memset(page, 0, PAGE_SIZE);
	expect_refused(e, page + 64, HEAP_FREE_FOREIGN);
	memcpy(header_copy, slab, 64);
	header_copy[4] = HEAP_NCLASSES;
	expect_refused(e, header_copy + 64, HEAP_FREE_FOREIGN);

	assert_int_equal(heap_free(&e->h, small), 0);
	assert_int_equal(heap_free(&e->h, big), 0);
	assert_int_equal(buddy_free(&e->b, page, 0), 0);
	assert_int_equal(buddy_free(&e->b, header_copy, 0), 0);
	assert_int_equal(heap_live_objects(&e->h), 0);
}

static void test_out_of_memory(void **state)
{
	struct env *e = env_new(9 * PAGE_SIZE); /* 8 pages */
	void *p[8 * PAGE_SIZE / 64];
	size_t n = 0;

	assert_int_equal(e->free0, 8);
	assert_null(heap_alloc(&e->h, 8 * PAGE_SIZE)); /* no room for a header */
	while ((p[n] = heap_alloc(&e->h, 64)))
		assert_true(++n < ARRAY_SIZE(p));
	assert_int_equal(buddy_free_pages(&e->b), 0);
	assert_true(n >= 8 * ((PAGE_SIZE - 64) / 64));
	assert_null(heap_alloc(&e->h, 3000));
	assert_null(heap_alloc(&e->h, 16));
	assert_int_equal(heap_live_objects(&e->h), n);
	while (n)
		heap_free(&e->h, p[--n]);
	assert_int_equal(heap_live_objects(&e->h), 0);
	assert_true(buddy_free_pages(&e->b) >= 7);
	void *big = heap_alloc(&e->h, 3 * PAGE_SIZE);
	assert_non_null(big);
	heap_free(&e->h, big);
	env_free(e);
}

/* ---- threads ---- */

#define NTHREADS 4
#define THREAD_ITERS 40000
#define THREAD_HELD 32
/* Ticket locks stall while the next waiter is preempted, often on a
 * loaded host: past this many seconds the threads stop early. */
#define THREAD_SECONDS 4

struct stress {
	struct env *e;
	unsigned long errors, iterations;
	double deadline;
};

/* A word every 64 bytes, and the last byte apart: enough to see another
 * thread's writes or an allocator's list pointers. */
static void fill(u8 *p, size_t size, u64 tag)
{
	for (size_t off = 0; off + 8 < size; off += 64)
		memcpy(p + off, &(u64){ tag ^ off }, 8);
	p[size - 1] = (u8)tag;
}

static bool intact(const u8 *p, size_t size, u64 tag)
{
	for (size_t off = 0; off + 8 < size; off += 64) {
		u64 v;
		memcpy(&v, p + off, 8);
		if (v != (tag ^ off))
			return false;
	}
	return p[size - 1] == (u8)tag;
}

static void worker_main(void *ctx, unsigned int id)
{
	struct stress *s = ctx;
	struct heap *h = &s->e->h;
	struct { u8 *p; size_t size; u64 tag; } held[THREAD_HELD];
	unsigned int n = 0;
	u64 rng = 0x5000 + id, errors = 0, it;

	for (it = 0; it < THREAD_ITERS && host_seconds() < s->deadline; it++) {
		u64 r = host_rand(&rng);
		if (n < THREAD_HELD && (r & 1 || !n)) {
			size_t size = (r >> 8) % 16 ? 1 + (r >> 16) % 2048
						    : 2049 + (r >> 16) % 30000;
			u8 *p = heap_alloc(h, size);
			if (!p)
				continue;
			if ((uintptr_t)p % 16 || !all_zero(p, size))
				errors++;
			u64 tag = (u64)id << 56 | it << 16 | (r & 0xffff);
			fill(p, size, tag);
			held[n].p = p;
			held[n].size = size;
			held[n++].tag = tag;
		} else {
			unsigned int i = (unsigned int)((r >> 1) % n);
			if (!intact(held[i].p, held[i].size, held[i].tag))
				errors++;
			heap_free(h, held[i].p);
			held[i] = held[--n];
		}
	}
	while (n--) {
		if (!intact(held[n].p, held[n].size, held[n].tag))
			errors++;
		heap_free(h, held[n].p);
	}
	__atomic_fetch_add(&s->errors, errors, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->iterations, it, __ATOMIC_RELAXED);
}

static void test_threads(void **state)
{
	struct env *e = *state;
	struct stress s = { .e = e, .deadline = host_seconds() + THREAD_SECONDS };

	assert_true(host_run_threads(NTHREADS, worker_main, &s));
	printf("# %lu of %u iterations\n", s.iterations, NTHREADS * THREAD_ITERS);
	assert_int_equal(s.errors, 0);
	assert_true(s.iterations >= 100);
	assert_int_equal(heap_live_objects(&e->h), 0);
	assert_int_equal(buddy_check(&e->b), 0);
	assert_true(e->free0 - buddy_free_pages(&e->b) <= HEAP_NCLASSES);
}

/* Small objects counted under the heap's lock, large ones outside it: the
 * count must survive both at once. */
static void count_main(void *ctx, unsigned int id)
{
	struct stress *s = ctx;
	struct heap *h = &s->e->h;
	size_t size = id & 1 ? 32 : 3 * PAGE_SIZE;
	u64 it;

	for (it = 0; it < 200000 && host_seconds() < s->deadline; it++) {
		void *p = heap_alloc(h, size);
		if (!p)
			__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
		heap_free(h, p);
	}
	__atomic_fetch_add(&s->iterations, it, __ATOMIC_RELAXED);
}

static void test_live_count_threads(void **state)
{
	struct env *e = *state;
	struct stress s = { .e = e, .deadline = host_seconds() + 2 };

	assert_true(host_run_threads(2, count_main, &s));
	printf("# %lu iterations\n", s.iterations);
	assert_int_equal(s.errors, 0);
	assert_int_equal(heap_live_objects(&e->h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_small_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages_per_class, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeroed_on_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_returns_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_null_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_free, setup, teardown),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_count_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
