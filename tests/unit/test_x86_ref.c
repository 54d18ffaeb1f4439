/* Zydis 4.0 (Debian's libzydis) as the reference decoder. */
#include <stdio.h>
#include <string.h>

#include "test_x86_ref.h"

const ZydisDecoder *ref_decoder(enum x86_mode mode)
{
	static ZydisDecoder dec[3];
	static bool ready[3];
	static const ZydisMachineMode mm[3] = {
		ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_MACHINE_MODE_LEGACY_32,
		ZYDIS_MACHINE_MODE_LONG_64,
	};
	static const ZydisStackWidth sw[3] = {
		ZYDIS_STACK_WIDTH_16, ZYDIS_STACK_WIDTH_32, ZYDIS_STACK_WIDTH_64,
	};

	if (!ready[mode]) {
		ZydisDecoderInit(&dec[mode], mm[mode], sw[mode]);
		ready[mode] = true;
	}
	return &dec[mode];
}

static bool has_memory_operand(const ZydisDecodedOperand *ops, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    ops[i].mem.type == ZYDIS_MEMOP_TYPE_MEM)
			return true; /* hidden ones too: string instructions */
	return false;
}

/* Zydis also decodes the instructions of the Knights Corner coprocessor
 * (MVEX, and a few VEX mask branches), which no x86-64 CPU has: to us they
 * are invalid encodings. */
static bool knights_corner(const ZydisDecodedInstruction *zi)
{
	return zi->encoding == ZYDIS_INSTRUCTION_ENCODING_MVEX ||
	       zi->meta.isa_ext == ZYDIS_ISA_EXT_KNC ||
	       zi->meta.isa_ext == ZYDIS_ISA_EXT_KNCE ||
	       zi->meta.isa_ext == ZYDIS_ISA_EXT_KNCV;
}

static void append_imm(struct ref_insn *ref, u64 v, unsigned int size)
{
	if (!size)
		return;
	if (size < 8)
		v &= (1ull << (8 * size)) - 1;
	ref->imm |= v << (8 * ref->imm_size);
	ref->imm_size += size;
}

bool ref_decode(enum x86_mode mode, const u8 *bytes, unsigned int avail,
		bool full, struct ref_insn *ref)
{
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisDecoderContext ctx;
	ZyanStatus st;

	if (full)
		st = ZydisDecoderDecodeFull(ref_decoder(mode), bytes, avail, &zi, ops);
	else
		st = ZydisDecoderDecodeInstruction(ref_decoder(mode), &ctx, bytes,
						   avail, &zi);
	if (!ZYAN_SUCCESS(st) || knights_corner(&zi))
		return false;
	memset(ref, 0, sizeof(*ref));
	ref->len = zi.length;
	ref->opsize = zi.operand_width / 8;
	ref->adsize = zi.address_width / 8;
	/* Our immediate is the raw bytes: ENTER's and a far pointer's two
	 * immediates side by side. */
	append_imm(ref, zi.raw.imm[0].value.u, zi.raw.imm[0].size / 8);
	append_imm(ref, zi.raw.imm[1].value.u, zi.raw.imm[1].size / 8);
	if (zi.encoding == ZYDIS_INSTRUCTION_ENCODING_3DNOW)
		append_imm(ref, zi.opcode, 1); /* to us, 0F 0F with an imm8 */
	ref->disp_size = zi.raw.disp.size / 8;
	ref->disp = zi.raw.disp.value;
	if (ref->disp_size && !(zi.attributes & ZYDIS_ATTRIB_HAS_MODRM)) {
		/* A moffs: Zydis calls it a displacement, we an immediate. */
		append_imm(ref, (u64)ref->disp, ref->disp_size);
		ref->disp_size = 0;
		ref->disp = 0;
	}
	ref->mnemonic = zi.mnemonic;
	ref->encoding = zi.encoding;
	if (full)
		ref->mem = has_memory_operand(ops, zi.operand_count);
	return true;
}

#define DIFFER(field, ours, theirs)                                          \
	do {                                                                 \
		if ((u64)(ours) != (u64)(theirs)) {                          \
			snprintf(why, 200, "%s: ours %#llx, Zydis %#llx",    \
				 field, (unsigned long long)(ours),          \
				 (unsigned long long)(theirs));              \
			return false;                                        \
		}                                                            \
	} while (0)

bool ref_agrees(const struct ref_insn *ref, const struct x86_insn *insn,
		enum ref_level level, char *why)
{
	DIFFER("length", insn->len, ref->len);
	if (level == REF_LENGTH)
		return true;
	DIFFER("immediate size", insn->imm_size, ref->imm_size);
	DIFFER("immediate", insn->imm, ref->imm);
	DIFFER("displacement", insn->disp, ref->disp);
	if (level == REF_ENCODING)
		return true;
	DIFFER("operand size", insn->opsize, ref->opsize);
	DIFFER("address size", insn->adsize, ref->adsize);
	DIFFER("memory operand", insn->mem_operand, ref->mem);
	return true;
}

void hex_bytes(const u8 *bytes, unsigned int n, char *out)
{
	unsigned int i;

	out[0] = 0;
	for (i = 0; i < n && i < 15; i++)
		sprintf(out + 3 * i, "%02x ", bytes[i]);
}
