/* A fake guest for the emulator tests: memory behind the emu_ops callbacks
 * that logs every access, can fault on the n-th one, and holds either a
 * pattern (a hash of the address) or, inside a window, bytes that writes
 * change. Plus random guest states. */
#ifndef TEST_X86_FAKE_H
#define TEST_X86_FAKE_H

#include <x86/emulate.h>

#define FAKE_LOG 8

struct access {
	bool write;
	u64 la;
	unsigned int size;
	u64 val;
	bool for_write; /* a read of a read-modify-write (checked as a write) */
};

struct fake_mem {
	u8 *window;          /* NULL: pattern everywhere */
	u64 window_base;
	u64 window_size;
	struct access log[FAKE_LOG]; /* the first FAKE_LOG accesses */
	unsigned int n;      /* accesses so far */
	int fault_at;        /* the access that faults (#PF), or -1 */
};

extern const struct emu_ops fake_ops;

/* The byte at la: from the window, or the pattern. */
u8 fake_byte(const struct fake_mem *m, u64 la);
u64 fake_value(const struct fake_mem *m, u64 la, unsigned int size);

/* A context on m, with every register, flag and base random (within what
 * the mode can hold), or zero when random is false. */
void fake_ctx(struct emu_ctx *ctx, struct fake_mem *m, enum x86_mode mode,
	      bool random);

/* xorshift64, deterministic: failures can be reproduced. */
u64 rnd(void);

/* True when the registers, flags and RIP of two contexts are the same;
 * ctx_diff prints the differences when print is set, ctx_equal always. */
bool ctx_diff(const struct emu_ctx *got, const struct emu_ctx *want, bool print);
bool ctx_equal(const struct emu_ctx *got, const struct emu_ctx *want);

#endif
