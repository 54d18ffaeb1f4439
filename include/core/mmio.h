/* Trapped guest-physical ranges. A registered range is made absent (or,
 * for write-only traps, read-only) in the nested page tables; the guest's
 * accesses to it fault, are decoded and emulated, and reach the range's
 * handlers one access at a time. */
#ifndef CORE_MMIO_H
#define CORE_MMIO_H

#include <core/vcpu.h>

struct mmio_region;

struct mmio_ops {
	/* size is 1, 2, 4 or 8, and gpa + size never crosses a page
	 * boundary: an access that does comes as its two parts, and a part
	 * of 3, 5, 6 or 7 bytes as naturally aligned pieces. read is
	 * needed even for write-only traps: an emulated read-modify-write
	 * instruction reads through it. */
	void (*read)(struct vcpu *v, struct mmio_region *r, u64 gpa, void *data,
		     unsigned int size);
	void (*write)(struct vcpu *v, struct mmio_region *r, u64 gpa,
		      const void *data, unsigned int size);
};

struct mmio_region {
	u64 base, size;           /* 4 KiB aligned */
	const char *name;
	const struct mmio_ops *ops;
	void *arg;
	bool trap_reads;          /* false: reads pass, only writes trap */
	struct mmio_region *next;
};

/* One access of 1, 2, 4 or 8 bytes at that width: to device memory
 * lamina mapped (ECAM, a BAR's page), or to RAM, where an aligned one is
 * atomic as the guest's own would have been. */
static inline u64 mem_read_sized(const volatile void *p, unsigned int size)
{
	return size == 1 ? *(const volatile u8 *)p : size == 2 ? *(const volatile u16 *)p
		: size == 4 ? *(const volatile u32 *)p : *(const volatile u64 *)p;
}

static inline void mem_write_sized(volatile void *p, unsigned int size, u64 val)
{
	if (size == 1)
		*(volatile u8 *)p = (u8)val;
	else if (size == 2)
		*(volatile u16 *)p = (u16)val;
	else if (size == 4)
		*(volatile u32 *)p = (u32)val;
	else
		*(volatile u64 *)p = val;
}

/* A range where nothing answers: reads all-ones, writes dropped. */
extern const struct mmio_ops mmio_absent_ops;

/* Add a region and protect it in the nested page tables. 0 or -1. */
int mmio_register(struct mmio_region *r);
/* Remove it and map its pages normally again. */
void mmio_unregister(struct mmio_region *r);

/* The mmiotest= page (core/mmio_test.c), if the option asks for it. */
void mmio_test_init(void);

#endif
