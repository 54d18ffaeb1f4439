/* lamina's home, seen from the guest: absent from the nested tables
 * (nested_init leaves it out), so every access faults here; reads return
 * all-ones, writes are dropped, and each page is reported once. The
 * self-check proves the guest changed nothing. */
#include <core/log.h>
#include <core/mm.h>
#include <core/mmio.h>
#include <core/panic.h>
#include <core/protect.h>
#include <core/string.h>

#define CANARY 0x6c616d696e614341ull /* "ACanimal" backwards: arbitrary */
#define CANARY_WORDS 512

extern char _text_start[], _rodata_end[];

static u64 code_sum;
static u64 data_canary[CANARY_WORDS] = { [0 ... CANARY_WORDS - 1] = CANARY };
static u64 *heap_canary;
static u8 *reported; /* one bit per page of the home */

/* FNV-1a over 64-bit words: cheap and order-sensitive. */
static u64 checksum(const u64 *p, size_t words)
{
	u64 h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < words; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static u64 code_checksum(void)
{
	return checksum((const u64 *)_text_start,
			(size_t)(_rodata_end - _text_start) / sizeof(u64));
}

static void report_once(struct vcpu *v, u64 gpa, bool write)
{
	u64 page = (gpa - home.base) >> PAGE_SHIFT;
	u8 bit = 1u << (page % 8);

	if (__atomic_fetch_or(&reported[page / 8], bit, __ATOMIC_RELAXED) & bit)
		return;
	log_warn("guest %s lamina's memory at %#llx (CPU %u): %s; reported once per page",
		 write ? "wrote to" : "read", (unsigned long long)gpa, v->cpu->index,
		 write ? "dropped" : "reads as all-ones");
	log_guest_rip(LOG_WARN, v->rip);
}

static void home_read(struct vcpu *v, struct mmio_region *r, u64 gpa, void *data,
		      unsigned int size)
{
	report_once(v, gpa, false);
	memset(data, 0xff, size);
}

static void home_write(struct vcpu *v, struct mmio_region *r, u64 gpa,
		       const void *data, unsigned int size)
{
	report_once(v, gpa, true);
}

static const struct mmio_ops home_ops = { home_read, home_write };
static struct mmio_region home_region = {
	.name = "lamina's", .ops = &home_ops, .trap_reads = true,
};

void protect_init(void)
{
	reported = kzalloc(home.size / PAGE_SIZE / 8);
	heap_canary = page_alloc(0);
	if (!reported || !heap_canary)
		panic("out of memory for lamina's self-protection");
	for (unsigned int i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		heap_canary[i] = CANARY ^ i;
	code_sum = code_checksum();
	home_region.base = home.base;
	home_region.size = home.size;
	if (mmio_register(&home_region))
		panic("cannot trap lamina's own memory");
}

bool protect_selfcheck(void)
{
	bool code_ok = code_checksum() == code_sum;
	bool data_ok = true, heap_ok = true;

	for (unsigned int i = 0; i < CANARY_WORDS; i++)
		data_ok &= data_canary[i] == CANARY;
	for (unsigned int i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		heap_ok &= heap_canary[i] == (CANARY ^ i);
	/* The hypercall's documentation promises the result on the console,
	 * at any loglevel=. */
	log_always("self-check: code and read-only data %s, data canary %s, heap canary %s",
		   code_ok ? "unchanged" : "CHANGED", data_ok ? "intact" : "DAMAGED",
		   heap_ok ? "intact" : "DAMAGED");
	return code_ok && data_ok && heap_ok;
}
