/* Zydis as the reference decoder for the x86 decoder tests and the fuzzer:
 * what it says about an instruction, reduced to the fields struct x86_insn
 * has. */
#ifndef TEST_X86_REF_H
#define TEST_X86_REF_H

#include <Zydis/Zydis.h>

#include <x86/emulate.h>

struct ref_insn {
	unsigned int len;
	unsigned int opsize, adsize; /* bytes */
	unsigned int imm_size;       /* first immediate, bytes */
	u64 imm;                     /* zero-extended from imm_size */
	unsigned int disp_size;      /* bytes */
	s64 disp;
	bool mem;                    /* an explicit or implicit memory operand */
	unsigned int mnemonic;       /* ZydisMnemonic */
	unsigned int encoding;       /* ZydisInstructionEncoding */
};

/* Zydis's decoder for a mode. */
const ZydisDecoder *ref_decoder(enum x86_mode mode);

/* Decode with Zydis; operands too (needed for .mem) when full is set.
 * false when Zydis finds no valid instruction, or one of Knights Corner. */
bool ref_decode(enum x86_mode mode, const u8 *bytes, unsigned int avail,
		bool full, struct ref_insn *ref);

enum ref_level {
	REF_LENGTH,   /* the length */
	REF_ENCODING, /* and the immediate and displacement */
	REF_FULL,     /* and operand and address size, memory operand (needs a
		       * full decode) */
};

/* Compare insn with ref up to level; the first difference is described in
 * why (at least 200 bytes). */
bool ref_agrees(const struct ref_insn *ref, const struct x86_insn *insn,
		enum ref_level level, char *why);

/* Format bytes as hex into out (at least 3 * 15 + 1 bytes). */
void hex_bytes(const u8 *bytes, unsigned int n, char *out);

#endif
