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

/* Unaligned little-endian stores and loads at a physical address. */
static inline void put16(u64 at, u16 v) { __builtin_memcpy(host_pa(at), &v, 2); }
static inline void put32(u64 at, u32 v) { __builtin_memcpy(host_pa(at), &v, 4); }
static inline void put64(u64 at, u64 v) { __builtin_memcpy(host_pa(at), &v, 8); }
static inline u32 get32(u64 at) { u32 v; __builtin_memcpy(&v, host_pa(at), 4); return v; }
static inline u64 get64(u64 at) { u64 v; __builtin_memcpy(&v, host_pa(at), 8); return v; }

#endif
