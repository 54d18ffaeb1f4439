/* mmiotest=<address>: a 4 KiB page of guest-physical space that lamina
 * traps and serves itself, behaving like memory (initially zero). Test
 * kernels run every instruction form the emulator supports against it and
 * against ordinary RAM, and compare. Off by default. */
#include <core/log.h>
#include <core/mm.h>
#include <core/mmio.h>
#include <core/options.h>
#include <core/string.h>

static u64 opt_mmiotest;
static int parse_page(const char *v, void *target)
{
	u64 a;

	if (parse_u64(v, &a) || !a || (a & (PAGE_SIZE - 1)))
		return -1;
	*(u64 *)target = a;
	return 0;
}
OPTION(mmiotest, "mmiotest", "<page-aligned guest-physical address>, e.g. 0x2000000",
       parse_page, &opt_mmiotest,
       "serve a memory-like test MMIO page there (for the emulator's tests)");

static u8 *store;

/* What struct mmio_ops promises every region (include/core/mmio.h),
 * checked where the tests see it: they look for this line. */
static void check_access(u64 off, unsigned int size)
{
	if ((size != 1 && size != 2 && size != 4 && size != 8) || off + size > PAGE_SIZE)
		log_warn("test MMIO: an access of %u bytes at offset %#llx breaks the mmio_ops contract",
			 size, (unsigned long long)off);
}

static void test_read(struct vcpu *v, struct mmio_region *r, u64 gpa, void *data,
		      unsigned int size)
{
	check_access(gpa - r->base, size);
	memcpy(data, store + (gpa - r->base), size);
}

static void test_write(struct vcpu *v, struct mmio_region *r, u64 gpa,
		       const void *data, unsigned int size)
{
	check_access(gpa - r->base, size);
	memcpy(store + (gpa - r->base), data, size);
}

static const struct mmio_ops test_ops = { test_read, test_write };
static struct mmio_region test_region = {
	.name = "test MMIO", .size = PAGE_SIZE, .ops = &test_ops, .trap_reads = true,
};

void mmio_test_init(void)
{
	if (!opt_mmiotest)
		return;
	if (in_home(opt_mmiotest, PAGE_SIZE)) {
		log_err("mmiotest=%#llx lies in lamina's memory; ignored",
			(unsigned long long)opt_mmiotest);
		return;
	}
	store = page_alloc(0);
	test_region.base = opt_mmiotest;
	if (!store || mmio_register(&test_region))
		log_err("cannot set up the test MMIO page");
	else
		log_info("test MMIO page at %#llx (mmiotest=)", (unsigned long long)opt_mmiotest);
}
