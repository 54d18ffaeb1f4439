/* Trapped guest-physical ranges. A registered range is made absent (or,
 * for write-only traps, read-only) in the nested page tables; the guest's
 * accesses to it fault, are decoded and emulated, and reach the range's
 * handlers one access at a time. */
#ifndef CORE_MMIO_H
#define CORE_MMIO_H

#include <core/vcpu.h>

struct mmio_region;

struct mmio_ops {
	/* size is 1 to 8 (an access that crosses a page boundary comes as
	 * its two parts, 3, 5, 6 and 7 bytes included); gpa never crosses a
	 * page boundary. read is
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

/* A range where nothing answers: reads all-ones, writes dropped. */
extern const struct mmio_ops mmio_absent_ops;

/* Add a region and protect it in the nested page tables. 0 or -1. */
int mmio_register(struct mmio_region *r);
/* Remove it and map its pages normally again. */
void mmio_unregister(struct mmio_region *r);

/* The mmiotest= page (core/mmio_test.c), if the option asks for it. */
void mmio_test_init(void);

#endif
