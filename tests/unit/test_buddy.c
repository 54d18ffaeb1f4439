/* core/mm/buddy.c over host memory: every order, coalescing back to the
 * initial free lists, exhaustion, rejected frees, a random sequence
 * against a per-page ownership model, the order of allocated blocks,
 * and threads allocating at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <core/buddy.h>

#include "host_env.h"

struct region {
	u8 *mem;
	size_t size;
	struct buddy b;
	size_t initial_free;
};

/* A host buffer of exactly size bytes (ASan guards its ends), managed
 * from offset off on. */
static struct region *region_new(size_t off, size_t size)
{
	struct region *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->size = size;
	r->mem = aligned_alloc(PAGE_SIZE, ALIGN_UP(off + size, PAGE_SIZE));
	assert_non_null(r->mem);
	buddy_init(&r->b, (uintptr_t)r->mem + off, size);
	r->initial_free = buddy_free_pages(&r->b);
	return r;
}

static void region_free(struct region *r)
{
	free(r->mem);
	free(r);
}

/* Pages the allocator should manage: whole pages of the region less the
 * metadata pages (a byte per page) at its front. */
static size_t expected_pages(uintptr_t start, size_t size)
{
	uintptr_t first = (start + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
	if (start + size <= first)
		return 0;
	size_t total = (start + size - first) / PAGE_SIZE;
	size_t meta = (total + PAGE_SIZE - 1) / PAGE_SIZE;
	return total > meta ? total - meta : 0;
}

/* The free lists as sorted (page index << 8 | order) values. */
static size_t snapshot(struct buddy *b, u64 *out, size_t max)
{
	size_t n = 0;

	for (unsigned int o = 0; o <= BUDDY_MAX_ORDER; o++)
		for (struct buddy_block *e = b->free[o].next; e != &b->free[o]; e = e->next) {
			assert_true(n < max);
			out[n++] = ((u64)((uintptr_t)e - b->base) / PAGE_SIZE) << 8 | o;
		}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j && out[j - 1] > out[j]; j--) {
			u64 t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/* The free blocks are naturally aligned, disjoint, and tile every
 * managed page exactly when nothing is allocated. */
static void assert_free_lists_tile(struct buddy *b)
{
	u8 *seen = calloc(b->npages + 1, 1);
	u64 *snap = calloc(b->npages + 1, sizeof(u64));
	size_t n = snapshot(b, snap, b->npages + 1);

	for (size_t i = 0; i < n; i++) {
		size_t idx = snap[i] >> 8, len = 1ul << (snap[i] & 0xff);
		assert_int_equal(idx % len, 0);
		assert_true(idx + len <= b->npages);
		for (size_t p = idx; p < idx + len; p++) {
			assert_false(seen[p]);
			seen[p] = 1;
		}
	}
	for (size_t p = 0; p < b->npages; p++)
		assert_true(seen[p]);
	free(seen);
	free(snap);
}

static void assert_back_to_start(struct region *r, const u64 *snap0, size_t n0)
{
	u64 *snap = calloc(r->b.npages + 1, sizeof(u64));

	assert_int_equal(buddy_check(&r->b), 0);
	assert_int_equal(buddy_free_pages(&r->b), r->initial_free);
	assert_int_equal(snapshot(&r->b, snap, r->b.npages + 1), n0);
	assert_memory_equal(snap, snap0, n0 * sizeof(u64));
	free(snap);
}

static u64 rng_state = 0x243f6a8885a308d3ull;

/* Orders 0..max, each half as likely as the one below. */
static unsigned int rnd_order(u64 *s, unsigned int max)
{
	unsigned int o = (unsigned int)__builtin_ctzll(host_rand(s) | BIT(63));
	return MIN(o, max);
}

/* ---- init ---- */

static void test_init_sizes(void **state)
{
	static const struct { size_t off, size; } cases[] = {
		{ 0, 2 * PAGE_SIZE },
		{ 0, 16 * MiB + 2 * PAGE_SIZE },   /* exactly two order-11 blocks */
		{ 0, 16 * MiB + PAGE_SIZE },       /* one page short */
		{ 0, 5 * MiB + 3 * PAGE_SIZE + 100 },
		{ 1, 3 * MiB },                    /* unaligned start */
		{ 4095, 20 * PAGE_SIZE + 1 },
		{ 0, 4097 * PAGE_SIZE },           /* two metadata pages */
		{ 0, 4098 * PAGE_SIZE },
		{ 100, 37 * PAGE_SIZE },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct region *r = region_new(cases[i].off, cases[i].size);
		uintptr_t start = (uintptr_t)r->mem + cases[i].off;
		size_t want = expected_pages(start, cases[i].size);
		assert_int_equal(r->b.npages, want);
		assert_int_equal(buddy_free_pages(&r->b), want);
		assert_int_equal(buddy_check(&r->b), 0);
		assert_true(r->b.base >= start);
		assert_true(r->b.base % PAGE_SIZE == 0);
		assert_true(r->b.base + want * PAGE_SIZE <= start + cases[i].size);
		/* Metadata before the pages, within the region. */
		assert_true((uintptr_t)r->b.meta >= start);
		assert_true((uintptr_t)r->b.meta + want <= r->b.base);
		assert_free_lists_tile(&r->b);
		/* Every page can be had, and written. */
		for (size_t n = 0; n < want; n++) {
			u8 *p = buddy_alloc(&r->b, 0);
			assert_non_null(p);
			memset(p, 0xee, PAGE_SIZE);
		}
		assert_null(buddy_alloc(&r->b, 0));
		region_free(r);
	}
}

static void test_init_degenerate(void **state)
{
	static const struct { size_t off, size; } cases[] = {
		{ 0, 0 },
		{ 0, PAGE_SIZE },          /* one page: all metadata */
		{ 0, 2 * PAGE_SIZE - 1 },
		{ 1, 100 },                /* ends before the first whole page */
		{ 1, PAGE_SIZE - 1 },
		{ 1, 2 * PAGE_SIZE },      /* one whole page */
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct region *r = region_new(cases[i].off, cases[i].size);
		assert_int_equal(buddy_free_pages(&r->b), 0);
		assert_int_equal(r->b.npages, 0);
		assert_null(buddy_alloc(&r->b, 0));
		assert_int_equal(buddy_check(&r->b), 0);
		assert_int_equal(buddy_free(&r->b, r->mem, 0), -1);
		assert_int_equal(buddy_free(&r->b, r->mem + PAGE_SIZE, 0), -1);
		region_free(r);
	}
}

/* ---- orders, coalescing, exhaustion ---- */

#define BIG (16 * MiB + 2 * PAGE_SIZE) /* 4096 pages: two order-11 blocks */

static void test_every_order(void **state)
{
	struct region *r = region_new(0, BIG);
	u64 *snap0 = calloc(r->b.npages, sizeof(u64));
	size_t n0 = snapshot(&r->b, snap0, r->b.npages);

	assert_int_equal(r->initial_free, 4096);
	assert_int_equal(n0, 2);
	for (unsigned int o = 0; o <= BUDDY_MAX_ORDER; o++) {
		size_t bytes = PAGE_SIZE << o;
		u8 *p = buddy_alloc(&r->b, o);
		assert_non_null(p);
		assert_int_equal(((uintptr_t)p - r->b.base) % bytes, 0);
		assert_true((uintptr_t)p >= r->b.base);
		assert_true((uintptr_t)p + bytes <= r->b.base + r->b.npages * PAGE_SIZE);
		assert_int_equal(buddy_free_pages(&r->b), 4096 - (1ul << o));
		assert_int_equal(buddy_check(&r->b), 0);
		memset(p, 0x5a, bytes);
		/* A second one of the same order lies elsewhere. */
		u8 *q = buddy_alloc(&r->b, o);
		assert_non_null(q);
		assert_true(q + bytes <= p || q >= p + bytes);
		assert_int_equal(buddy_free(&r->b, q, o), 0);
		assert_int_equal(buddy_free(&r->b, p, o), 0);
		assert_back_to_start(r, snap0, n0);
	}
	assert_null(buddy_alloc(&r->b, BUDDY_MAX_ORDER + 1));
	assert_null(buddy_alloc(&r->b, 100));
	free(snap0);
	region_free(r);
}

/* Allocate everything in blocks of random orders, free it all in random
 * order: the free lists end as they began. */
static void test_coalesce_all(void **state)
{
	struct region *r = region_new(0, BIG + 5 * PAGE_SIZE + 17);
	u64 *snap0 = calloc(r->b.npages, sizeof(u64));
	size_t n0 = snapshot(&r->b, snap0, r->b.npages);
	struct held { u8 *p; unsigned int o; } *h = calloc(r->b.npages, sizeof(*h));
	u8 *owner = calloc(r->b.npages, 1);

	for (int round = 0; round < 6; round++) {
		size_t n = 0, pages = 0;
		unsigned int max = round == 0 ? 0 : round * 2;
		/* Until even order 0 fails. */
		for (;;) {
			unsigned int o = rnd_order(&rng_state, max);
			u8 *p = buddy_alloc(&r->b, o);
			if (!p && !(p = buddy_alloc(&r->b, o = 0)))
				break;
			size_t idx = ((uintptr_t)p - r->b.base) / PAGE_SIZE;
			for (size_t i = idx; i < idx + (1ul << o); i++) {
				assert_false(owner[i]);
				owner[i] = 1;
			}
			h[n++] = (struct held){ p, o };
			pages += 1ul << o;
		}
		assert_int_equal(pages, r->initial_free);
		assert_int_equal(buddy_free_pages(&r->b), 0);
		assert_int_equal(buddy_check(&r->b), 0);
		for (size_t i = n; i > 1; i--) {
			size_t j = host_rand(&rng_state) % i;
			struct held t = h[i - 1];
			h[i - 1] = h[j];
			h[j] = t;
		}
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(buddy_free(&r->b, h[i].p, h[i].o), 0);
			size_t idx = ((uintptr_t)h[i].p - r->b.base) / PAGE_SIZE;
			memset(owner + idx, 0, 1ul << h[i].o);
			if (i % 64 == 0)
				assert_int_equal(buddy_check(&r->b), 0);
		}
		assert_back_to_start(r, snap0, n0);
	}
	free(owner);
	free(h);
	free(snap0);
	region_free(r);
}

static void test_exhaustion(void **state)
{
	struct region *r = region_new(0, BIG);
	u8 *a = buddy_alloc(&r->b, BUDDY_MAX_ORDER);
	u8 *b = buddy_alloc(&r->b, BUDDY_MAX_ORDER);

	assert_non_null(a);
	assert_non_null(b);
	assert_null(buddy_alloc(&r->b, BUDDY_MAX_ORDER));
	assert_null(buddy_alloc(&r->b, 0));
	assert_int_equal(buddy_free_pages(&r->b), 0);
	assert_int_equal(buddy_free(&r->b, b, BUDDY_MAX_ORDER), 0);

	/* Fragmented: every other page free, yet no two adjacent. */
	u8 *pages[2048];
	for (int i = 0; i < 2048; i++)
		assert_non_null(pages[i] = buddy_alloc(&r->b, 0));
	assert_null(buddy_alloc(&r->b, 0));
	for (int i = 0; i < 2048; i++)
		if (((uintptr_t)pages[i] / PAGE_SIZE) & 1)
			assert_int_equal(buddy_free(&r->b, pages[i], 0), 0);
	assert_int_equal(buddy_free_pages(&r->b), 1024);
	assert_int_equal(buddy_check(&r->b), 0);
	assert_null(buddy_alloc(&r->b, 1));
	u8 *one = buddy_alloc(&r->b, 0);
	assert_non_null(one);
	assert_int_equal(buddy_free(&r->b, one, 0), 0);
	for (int i = 0; i < 2048; i++)
		if (!(((uintptr_t)pages[i] / PAGE_SIZE) & 1))
			assert_int_equal(buddy_free(&r->b, pages[i], 0), 0);
	assert_int_equal(buddy_free(&r->b, a, BUDDY_MAX_ORDER), 0);
	assert_int_equal(buddy_free_pages(&r->b), 4096);
	assert_int_equal(buddy_check(&r->b), 0);
	assert_non_null(buddy_alloc(&r->b, BUDDY_MAX_ORDER));
	assert_non_null(buddy_alloc(&r->b, BUDDY_MAX_ORDER));
	region_free(r);
}

/* A free that is refused must change nothing at all. */
static void expect_refused(struct region *r, void *p, unsigned int order)
{
	size_t before = buddy_free_pages(&r->b);
	u64 *s0 = calloc(r->b.npages + 1, sizeof(u64));
	u64 *s1 = calloc(r->b.npages + 1, sizeof(u64));
	size_t n0 = snapshot(&r->b, s0, r->b.npages + 1);

	assert_int_equal(buddy_free(&r->b, p, order), -1);
	assert_int_equal(buddy_free_pages(&r->b), before);
	assert_int_equal(buddy_check(&r->b), 0);
	assert_int_equal(snapshot(&r->b, s1, r->b.npages + 1), n0);
	assert_memory_equal(s0, s1, n0 * sizeof(u64));
	free(s0);
	free(s1);
}

static void test_bad_free(void **state)
{
	struct region *r = region_new(0, BIG);
	u8 *base = (u8 *)r->b.base;
	u8 *p0 = buddy_alloc(&r->b, 0);
	u8 *p3 = buddy_alloc(&r->b, 3);
	u8 *never = NULL;

	/* Double free. */
	u8 *x = buddy_alloc(&r->b, 2);
	assert_int_equal(buddy_free(&r->b, x, 2), 0);
	expect_refused(r, x, 2);
	expect_refused(r, x, 0);
	/* Wrong order, either way. */
	expect_refused(r, p3, 2);
	expect_refused(r, p3, 4);
	expect_refused(r, p0, 1);
	/* Inside a block, unaligned, outside the region. */
	expect_refused(r, p3 + PAGE_SIZE, 0);
	expect_refused(r, p3 + 4 * PAGE_SIZE, 2);
	expect_refused(r, p0 + 1, 0);
	expect_refused(r, p0 + PAGE_SIZE / 2, 0);
	expect_refused(r, base - PAGE_SIZE, 0);
	expect_refused(r, r->mem, 0);              /* the metadata page */
	expect_refused(r, base + r->b.npages * PAGE_SIZE, 0);
	expect_refused(r, base + 100 * GiB, 0);
	expect_refused(r, never, 0);
	expect_refused(r, (void *)UINTPTR_MAX, 0);
	/* Free blocks, never allocated: at their order and at order 0. */
	for (unsigned int o = 0; o <= BUDDY_MAX_ORDER; o++) {
		void *f = r->b.free[o].next;
		if (f == &r->b.free[o])
			continue;
		expect_refused(r, f, o);
		expect_refused(r, f, 0);
	}
	/* Orders past the largest. */
	expect_refused(r, p0, BUDDY_MAX_ORDER + 1);
	expect_refused(r, p0, 64);
	/* The real ones still free fine. */
	assert_int_equal(buddy_free(&r->b, p3, 3), 0);
	assert_int_equal(buddy_free(&r->b, p0, 0), 0);
	expect_refused(r, p0, 0);
	assert_int_equal(buddy_free_pages(&r->b), 4096);
	region_free(r);
}

/* buddy_block_order: the order of allocated block heads only. */
static void test_block_order(void **state)
{
	struct region *r = region_new(0, BIG);
	u8 *p0 = buddy_alloc(&r->b, 0), *p5 = buddy_alloc(&r->b, 5);
	u8 *x = buddy_alloc(&r->b, 2);

	assert_int_equal(buddy_block_order(&r->b, p0), 0);
	assert_int_equal(buddy_block_order(&r->b, p5), 5);
	assert_int_equal(buddy_block_order(&r->b, p5 + PAGE_SIZE), -1);  /* inside */
	assert_int_equal(buddy_block_order(&r->b, p5 + 31 * PAGE_SIZE), -1);
	assert_int_equal(buddy_block_order(&r->b, p0 + 64), -1);         /* unaligned */
	assert_int_equal(buddy_free(&r->b, x, 2), 0);
	assert_int_equal(buddy_block_order(&r->b, x), -1);               /* freed */
	for (unsigned int o = 0; o <= BUDDY_MAX_ORDER; o++)
		if (r->b.free[o].next != &r->b.free[o])
			assert_int_equal(buddy_block_order(&r->b, r->b.free[o].next), -1);
	assert_int_equal(buddy_block_order(&r->b, r->mem), -1);          /* metadata */
	assert_int_equal(buddy_block_order(&r->b, (u8 *)r->b.base + r->b.npages * PAGE_SIZE), -1);
	assert_int_equal(buddy_block_order(&r->b, NULL), -1);
	region_free(r);
}

/* ---- random sequence against an ownership model ---- */

static void test_random_sequence(void **state)
{
	struct region *r = region_new(123, 2 * MiB + 37 * PAGE_SIZE);
	size_t np = r->b.npages, held_pages = 0, n = 0;
	u8 *owner = calloc(np, 1);
	struct held { u8 *p; unsigned int o; } h[256];
	u64 *snap0 = calloc(np, sizeof(u64));
	size_t n0 = snapshot(&r->b, snap0, np);

	for (int step = 0; step < 20000; step++) {
		u64 op = host_rand(&rng_state) % 100;
		if (n < ARRAY_SIZE(h) && (op < 55 || !n)) {
			unsigned int o = rnd_order(&rng_state, 8);
			u8 *p = buddy_alloc(&r->b, o);
			if (!p) {
				/* Only when no free block is big enough. */
				for (unsigned int k = o; k <= BUDDY_MAX_ORDER; k++)
					assert_true(r->b.free[k].next == &r->b.free[k]);
				continue;
			}
			size_t idx = ((uintptr_t)p - r->b.base) / PAGE_SIZE;
			assert_int_equal(idx % (1ul << o), 0);
			assert_true(idx + (1ul << o) <= np);
			for (size_t i = idx; i < idx + (1ul << o); i++) {
				assert_false(owner[i]);
				owner[i] = 1;
			}
			memset(p, (int)step, PAGE_SIZE << o);
			h[n++] = (struct held){ p, o };
			held_pages += 1ul << o;
		} else if (op < 95) {
			size_t i = host_rand(&rng_state) % n;
			struct held x = h[i];
			h[i] = h[--n];
			assert_int_equal(buddy_free(&r->b, x.p, x.o), 0);
			size_t idx = ((uintptr_t)x.p - r->b.base) / PAGE_SIZE;
			memset(owner + idx, 0, 1ul << x.o);
			held_pages -= 1ul << x.o;
			if (op & 1)
				expect_refused(r, x.p, x.o); /* freed twice */
		} else if (n) {
			struct held x = h[host_rand(&rng_state) % n];
			expect_refused(r, x.p, x.o ? x.o - 1 : 1);
		}
		assert_int_equal(buddy_check(&r->b), 0);
		assert_int_equal(buddy_free_pages(&r->b), np - held_pages);
	}
	while (n) {
		n--;
		assert_int_equal(buddy_free(&r->b, h[n].p, h[n].o), 0);
	}
	assert_back_to_start(r, snap0, n0);
	free(snap0);
	free(owner);
	region_free(r);
}

/* ---- threads ---- */

#define NTHREADS 4
#define THREAD_ITERS 50000
/* A ticket lock stalls while the next waiter in line is preempted, which
 * happens often on a busy host with more threads than CPUs: past this many
 * seconds the threads stop early. */
#define THREAD_SECONDS 4
#define THREAD_HELD 16
#define STRIDE 1024 /* bytes between pattern words */

struct stress {
	struct region *r;
	u32 *owner; /* per page: 0 or the holding thread's number */
	unsigned long errors, iterations;
	double deadline;
};

static void fill(u8 *p, size_t bytes, u64 tag)
{
	for (size_t off = 0; off < bytes; off += STRIDE)
		*(u64 *)(p + off) = tag ^ off;
}

static bool intact(const u8 *p, size_t bytes, u64 tag)
{
	for (size_t off = 0; off < bytes; off += STRIDE)
		if (*(const u64 *)(p + off) != (tag ^ off))
			return false;
	return true;
}

/* Mark (or unmark) the block's pages as this thread's; false if another
 * thread holds one of them. */
static bool claim(struct stress *s, u8 *p, unsigned int o, u32 from, u32 to)
{
	size_t idx = ((uintptr_t)p - s->r->b.base) / PAGE_SIZE;
	bool ok = true;

	for (size_t i = idx; i < idx + (1ul << o); i++) {
		u32 expect = from;
		if (!__atomic_compare_exchange_n(&s->owner[i], &expect, to, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			ok = false;
	}
	return ok;
}

static void worker_main(void *ctx, unsigned int id)
{
	struct stress *s = ctx;
	struct buddy *b = &s->r->b;
	struct { u8 *p; unsigned int o; u64 tag; } h[THREAD_HELD];
	unsigned int n = 0;
	u64 rng = 0x1000 + id, errors = 0;

	u64 it;

	for (it = 0; it < THREAD_ITERS; it++) {
		u64 r = host_rand(&rng);
		if (host_seconds() > s->deadline)
			break;
		if (n < THREAD_HELD && (r & 1 || !n)) {
			unsigned int o = rnd_order(&rng, 4);
			u8 *p = buddy_alloc(b, o);
			if (!p)
				continue;
			if (((uintptr_t)p - b->base) % (PAGE_SIZE << o) ||
			    !claim(s, p, o, 0, id))
				errors++;
			u64 tag = (u64)id << 56 | it << 8 | o;
			fill(p, PAGE_SIZE << o, tag);
			h[n].p = p;
			h[n].o = o;
			h[n++].tag = tag;
		} else {
			unsigned int i = (unsigned int)((r >> 1) % n);
			if (!intact(h[i].p, PAGE_SIZE << h[i].o, h[i].tag) ||
			    !claim(s, h[i].p, h[i].o, id, 0) ||
			    buddy_free(b, h[i].p, h[i].o))
				errors++;
			h[i] = h[--n];
		}
	}
	while (n--)
		if (!intact(h[n].p, PAGE_SIZE << h[n].o, h[n].tag) ||
		    !claim(s, h[n].p, h[n].o, id, 0) ||
		    buddy_free(b, h[n].p, h[n].o))
			errors++;
	__atomic_fetch_add(&s->errors, errors, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->iterations, it, __ATOMIC_RELAXED);
}

static void test_threads(void **state)
{
	struct stress s = { .r = region_new(0, 8 * MiB + 2 * PAGE_SIZE) };
	u64 *snap0 = calloc(s.r->b.npages, sizeof(u64));
	size_t n0 = snapshot(&s.r->b, snap0, s.r->b.npages);

	s.owner = calloc(s.r->b.npages, sizeof(u32));
	s.deadline = host_seconds() + THREAD_SECONDS;
	assert_true(host_run_threads(NTHREADS, worker_main, &s));
	printf("# %lu of %u iterations\n", s.iterations, NTHREADS * THREAD_ITERS);
	assert_int_equal(s.errors, 0);
	assert_true(s.iterations >= 100);
	assert_back_to_start(s.r, snap0, n0);
	free(s.owner);
	free(snap0);
	region_free(s.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_sizes),
		cmocka_unit_test(test_init_degenerate),
		cmocka_unit_test(test_every_order),
		cmocka_unit_test(test_coalesce_all),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_bad_free),
		cmocka_unit_test(test_block_order),
		cmocka_unit_test(test_random_sequence),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
