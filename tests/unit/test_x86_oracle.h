/* The reference for the emulator's non-string instructions: the operands
 * as Zydis decodes them (registers, addresses, immediates) and the
 * arithmetic as the host CPU computes it. */
#ifndef TEST_X86_ORACLE_H
#define TEST_X86_ORACLE_H

#include "test_x86_fake.h"

struct expect {
	struct emu_ctx ctx;      /* registers, flags and RIP after */
	struct access acc[4];    /* the accesses, in order */
	unsigned int n;
};

/* What the instruction at bytes does to before, with memory m. false when
 * Zydis does not decode it or it is not one the emulator executes. */
bool oracle(const u8 *bytes, const struct emu_ctx *before,
	    const struct fake_mem *m, struct expect *out);

#endif
