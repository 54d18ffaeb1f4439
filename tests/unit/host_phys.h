/* A stand-in for physical memory in host unit tests: a sparse, zeroed
 * mapping at the host tests' DIRECT_MAP_BASE, so phys_to_virt works as
 * in lamina (tests/unit/host_phys.c). */
#ifndef TEST_HOST_PHYS_H
#define TEST_HOST_PHYS_H

#include <core/mm.h>

/* (Re)creates size bytes of zeroed physical memory from address 0;
 * 0 on success. Pages cost host memory only once touched. */
int host_phys_reset(u64 size);

static inline u8 *host_pa(u64 addr)
{
	return phys_to_virt(addr);
}

#endif
