/* Stand-in physical memory for host unit tests (host_phys.h). */
#include <sys/mman.h>

#include "host_phys.h"

static u64 mapped;

int host_phys_reset(u64 size)
{
	void *want = (void *)(uintptr_t)DIRECT_MAP_BASE;

	if (mapped)
		munmap(want, mapped);
	mapped = 0;
	void *got = mmap(want, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (got != want)
		return -1;
	mapped = size;
	return 0;
}
