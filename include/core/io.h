/* Port I/O hooks: ranges of ports lamina handles itself. Hooked ports are
 * set in the I/O bitmap; every other port passes through untouched. */
#ifndef CORE_IO_H
#define CORE_IO_H

#include <core/vcpu.h>

struct io_hook;

struct io_ops {
	/* One access of size 1, 2 or 4 at port (within the hook's range). */
	u32 (*read)(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size);
	void (*write)(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size,
		      u32 val);
};

struct io_hook {
	u16 base, count;
	const char *name;
	const struct io_ops *ops;
	void *arg;
	struct io_hook *next;
};

/* Ports where nothing answers: reads all-ones, writes dropped. */
extern const struct io_ops io_absent_ops;

/* A read op for hooks that watch writes only: the hardware answers. */
u32 io_pass_read(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size);

/* Add a hook and intercept its ports. 0, or -1 if the CPU back end cannot
 * intercept port I/O. */
int io_hook_register(struct io_hook *h);

/* Port I/O by lamina itself, for hooks that pass an access on. */
u32 io_port_read(u16 port, unsigned int size);
void io_port_write(u16 port, unsigned int size, u32 val);

#endif
