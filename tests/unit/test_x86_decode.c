/* The x86 decoder on the instructions lamina emulates: every opcode x every
 * ModRM x every SIB x a set of prefix combinations x the three modes,
 * field by field against Zydis. Then hand-checked lengths (the instructions
 * lamina steps over on AMD without NRIPS) and the limits: 15 bytes,
 * truncation, where REX counts, opcodes gone from 64-bit mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <x86/emulate.h>

#include "test_x86_ref.h"

/* The emulated opcodes with a ModRM byte (0x0fxx: the 0F map)... */
static const u16 modrm_opcodes[] = {
	0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13,
	0x18, 0x19, 0x1a, 0x1b, 0x20, 0x21, 0x22, 0x23, 0x28, 0x29, 0x2a, 0x2b,
	0x30, 0x31, 0x32, 0x33, 0x38, 0x39, 0x3a, 0x3b, 0x63, 0x80, 0x81, 0x82,
	0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xf6,
	0xf7, 0x0fa3, 0x0fab, 0x0fb3, 0x0fbb, 0x0fba, 0x0fb6, 0x0fb7, 0x0fbe,
	0x0fbf,
};
/* ... and without: moffs MOV and the string instructions. */
static const u8 plain_opcodes[] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xad,
};

/* Prefix combinations. SEG is a segment override that changes with the
 * ModRM/SIB bytes, so that all six are met without multiplying the run. */
#define SEG 0x100
struct prefixes {
	unsigned int n;
	u16 b[3];
};

static const struct prefixes legacy_prefixes[] = {
	{ 0, { 0 } }, { 1, { 0x66 } }, { 1, { 0x67 } }, { 2, { 0x66, 0x67 } },
	{ 1, { 0xf0 } }, { 1, { 0xf2 } }, { 1, { 0xf3 } }, { 1, { SEG } },
	{ 2, { 0x66, SEG } }, { 2, { SEG, 0x67 } }, { 2, { 0xf3, 0x66 } },
	{ 3, { 0xf0, 0x66, SEG } },
};

/* 64-bit mode adds REX: each bit, all of them, REX.W against 66, a REX
 * made void by a later prefix, and two REX bytes (the last counts). */
static const struct prefixes rex_prefixes[] = {
	{ 1, { 0x40 } }, { 1, { 0x41 } }, { 1, { 0x42 } }, { 1, { 0x44 } },
	{ 1, { 0x48 } }, { 1, { 0x4f } }, { 2, { 0x66, 0x48 } },
	{ 2, { 0x48, 0x66 } }, { 2, { 0x67, 0x4b } }, { 2, { 0x4c, 0x43 } },
	{ 2, { SEG, 0x4d } }, { 2, { 0xf0, 0x49 } },
};

static const u8 seg_prefixes[6] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };

struct tally {
	unsigned long compared;  /* both decoders agree on every field */
	unsigned long ours_only; /* we decode what Zydis calls invalid */
	unsigned long invalid;   /* both call it invalid */
	unsigned long failed;
};

static void report(const struct tally *t, const char *what, enum x86_mode m,
		   const u8 *b, const char *why)
{
	char hex[64];

	if (t->failed > 20)
		return;
	hex_bytes(b, X86_MAX_INSN_LEN, hex);
	print_message("%s, %d-bit mode, %s: %s\n", what, 16 << m, hex, why);
}

/* Decode b with both decoders. The emulated instructions must agree on
 * every field; the other members of their groups (NOT, NEG, ...) on the
 * encoding. Zydis rejects LOCK where the CPU would #UD; we decode those
 * (lamina never meets them: the CPU faults first). Nothing else may differ. */
static void compare(enum x86_mode mode, const u8 *b, bool locked,
		    struct tally *t)
{
	struct ref_insn ref;
	struct x86_insn insn;
	char why[200];
	bool zy = ref_decode(mode, b, X86_MAX_INSN_LEN, true, &ref);
	bool ours = x86_decode(b, X86_MAX_INSN_LEN, mode, &insn) == 0;

	if (!zy && !ours) {
		t->invalid++;
		return;
	}
	if (zy && ours) {
		if (ref_agrees(&ref, &insn, insn.op ? REF_FULL : REF_ENCODING, why)) {
			t->compared++;
			return;
		}
	} else if (ours && locked) {
		t->ours_only++;
		return;
	} else {
		snprintf(why, sizeof(why), "Zydis %s, ours %s",
			 zy ? "valid" : "invalid", ours ? "valid" : "invalid");
	}
	t->failed++;
	report(t, "differs", mode, b, why);
}

/* Lay out prefixes, opcode, ModRM, SIB and filler for displacement and
 * immediate; returns where ModRM goes (or would). */
static unsigned int layout(u8 *b, const struct prefixes *p, u16 opcode,
			   unsigned int variant)
{
	unsigned int i, n = 0;

	for (i = 0; i < p->n; i++)
		b[n++] = p->b[i] == SEG ? seg_prefixes[variant % 6] : (u8)p->b[i];
	if (opcode > 0xff)
		b[n++] = 0x0f;
	b[n++] = (u8)opcode;
	/* Filler of both signs, changing with the variant. */
	for (i = n; i < X86_MAX_INSN_LEN; i++)
		b[i] = (u8)(0x81 + 0x35 * i + variant);
	return n;
}

static bool has_lock(const struct prefixes *p)
{
	unsigned int i;

	for (i = 0; i < p->n; i++)
		if (p->b[i] == 0xf0)
			return true;
	return false;
}

/* Does this prefix set select 32/64-bit addressing (where SIB exists)? */
static bool sib_addressing(enum x86_mode mode, const struct prefixes *p)
{
	unsigned int i;
	bool p67 = false;

	for (i = 0; i < p->n; i++)
		p67 |= p->b[i] == 0x67;
	return mode == X86_MODE_16 ? p67 : true;
}

static void sweep_opcode(enum x86_mode mode, const struct prefixes *p,
			 u16 opcode, struct tally *t)
{
	bool sib_ok = sib_addressing(mode, p), locked = has_lock(p);
	unsigned int m, s, at, nsib;
	u8 b[X86_MAX_INSN_LEN];

	for (m = 0; m < 256; m++) {
		nsib = sib_ok && (m >> 6) != 3 && (m & 7) == 4 ? 256 : 1;
		for (s = 0; s < nsib; s++) {
			at = layout(b, p, opcode, m + s);
			b[at] = (u8)m;
			if (nsib > 1)
				b[at + 1] = (u8)s;
			compare(mode, b, locked, t);
		}
	}
}

static void sweep_prefixes(enum x86_mode mode, const struct prefixes *p,
			   struct tally *t)
{
	unsigned int i, v;
	u8 b[X86_MAX_INSN_LEN];

	for (i = 0; i < ARRAY_SIZE(modrm_opcodes); i++)
		sweep_opcode(mode, p, modrm_opcodes[i], t);
	for (i = 0; i < ARRAY_SIZE(plain_opcodes); i++)
		for (v = 0; v < 16; v++) {
			layout(b, p, plain_opcodes[i], v * 17);
			compare(mode, b, has_lock(p), t);
		}
}

static void supported_set(enum x86_mode mode)
{
	struct tally t = { 0, 0, 0, 0 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(legacy_prefixes); i++)
		sweep_prefixes(mode, &legacy_prefixes[i], &t);
	for (i = 0; mode == X86_MODE_64 && i < ARRAY_SIZE(rex_prefixes); i++)
		sweep_prefixes(mode, &rex_prefixes[i], &t);
	print_message("# %d-bit: %lu encodings agree with Zydis field by field, "
		      "%lu are invalid to both, %lu have a LOCK only Zydis "
		      "rejects\n", 16 << mode, t.compared, t.invalid, t.ours_only);
	assert_int_equal(t.failed, 0);
	assert_true(t.compared > 100000);
}

static void test_supported_set_16(void **state) { supported_set(X86_MODE_16); }
static void test_supported_set_32(void **state) { supported_set(X86_MODE_32); }
static void test_supported_set_64(void **state) { supported_set(X86_MODE_64); }

/* Lengths checked by hand against the SDM and APM, not against Zydis. */
struct known {
	enum x86_mode mode;
	unsigned int len; /* 0: invalid */
	unsigned int n;
	u8 b[15];
};

#define M16 X86_MODE_16
#define M32 X86_MODE_32
#define M64 X86_MODE_64
static const struct known known[] = {
	/* Instructions lamina intercepts and steps over. */
	{ M64, 2, 2, { 0x0f, 0xa2 } },                   /* CPUID */
	{ M64, 2, 2, { 0x0f, 0x32 } },                   /* RDMSR */
	{ M64, 2, 2, { 0x0f, 0x30 } },                   /* WRMSR */
	{ M64, 3, 3, { 0x48, 0x0f, 0x30 } },             /* REX.W WRMSR */
	{ M64, 3, 3, { 0x0f, 0x01, 0xc1 } },             /* VMCALL */
	{ M64, 3, 3, { 0x0f, 0x01, 0xd9 } },             /* VMMCALL */
	{ M16, 3, 3, { 0x0f, 0x01, 0xd9 } },
	{ M64, 3, 3, { 0x0f, 0x01, 0xd1 } },             /* XSETBV */
	{ M64, 3, 3, { 0x0f, 0x01, 0xd8 } },             /* VMRUN */
	{ M32, 4, 4, { 0x67, 0x0f, 0x01, 0xd8 } },       /* VMRUN, 16-bit rAX */
	{ M64, 3, 3, { 0x0f, 0x01, 0xdf } },             /* INVLPGA */
	{ M64, 3, 3, { 0x0f, 0x01, 0xdc } },             /* STGI */
	{ M64, 3, 3, { 0x0f, 0x01, 0xc2 } },             /* VMLAUNCH */
	{ M64, 3, 3, { 0x0f, 0x01, 0xc4 } },             /* VMXOFF */
	{ M64, 4, 4, { 0xf3, 0x0f, 0xc7, 0x30 } },       /* VMXON [rax] */
	{ M64, 9, 9, { 0x66, 0x0f, 0xc7, 0x34, 0x25, 1, 2, 3, 4 } }, /* VMCLEAR [d32] */
	{ M64, 3, 3, { 0x0f, 0x78, 0xc1 } },             /* VMREAD rcx, rax */
	{ M64, 6, 6, { 0x66, 0x0f, 0x38, 0x80, 0x48, 0x10 } }, /* INVEPT */
	{ M64, 3, 3, { 0x0f, 0x01, 0xf9 } },             /* RDTSCP */
	{ M64, 7, 7, { 0x0f, 0x01, 0x3d, 1, 2, 3, 4 } }, /* INVLPG [rip+d32] */
	{ M64, 2, 2, { 0xe4, 0x60 } },                   /* IN AL, 60h */
	{ M64, 1, 1, { 0xf4 } },                         /* HLT */
	/* Immediates that depend on the prefixes and the mode. */
	{ M64, 10, 10, { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8 } }, /* MOV r64, imm64 */
	{ M64, 4, 4, { 0x66, 0xb8, 1, 2 } },
	{ M16, 3, 3, { 0xb8, 1, 2 } },
	{ M16, 6, 6, { 0x66, 0xb8, 1, 2, 3, 4 } },
	{ M64, 9, 9, { 0xa1, 1, 2, 3, 4, 5, 6, 7, 8 } },  /* MOV eAX, moffs64 */
	{ M64, 6, 6, { 0x67, 0xa1, 1, 2, 3, 4 } },
	{ M32, 4, 4, { 0x67, 0xa1, 1, 2 } },
	{ M16, 6, 6, { 0x67, 0xa1, 1, 2, 3, 4 } },
	{ M32, 7, 7, { 0x9a, 1, 2, 3, 4, 5, 6 } },        /* CALLF ptr16:32 */
	{ M16, 5, 5, { 0x9a, 1, 2, 3, 4 } },
	{ M16, 8, 8, { 0x66, 0xea, 1, 2, 3, 4, 5, 6 } },  /* JMPF ptr16:32 */
	{ M64, 0, 7, { 0x9a, 1, 2, 3, 4, 5, 6 } },
	{ M64, 4, 4, { 0xc8, 1, 2, 3 } },                /* ENTER */
	{ M64, 7, 7, { 0xf6, 0x05, 1, 2, 3, 4, 5 } },    /* TEST [rip+d], ib */
	{ M64, 6, 6, { 0xf6, 0x15, 1, 2, 3, 4 } },       /* NOT: no imm */
	{ M32, 10, 10, { 0xf7, 0x05, 1, 2, 3, 4, 5, 6, 7, 8 } },
	{ M32, 9, 9, { 0x66, 0xf7, 0x05, 1, 2, 3, 4, 5, 6 } },
	{ M64, 6, 6, { 0x66, 0xe8, 1, 2, 3, 4 } },       /* CALL rel32 (Intel) */
	{ M32, 4, 4, { 0x66, 0xe8, 1, 2 } },             /* CALL rel16 */
	/* ModRM forms. */
	{ M16, 4, 4, { 0x8b, 0x06, 1, 2 } },             /* [disp16] */
	{ M16, 3, 3, { 0x8b, 0x46, 1 } },                /* [bp+d8] */
	{ M16, 4, 4, { 0x8b, 0x86, 1, 2 } },             /* [bp+d16] */
	{ M16, 2, 2, { 0x8b, 0x04 } },                   /* [si] */
	{ M16, 4, 4, { 0x67, 0x8b, 0x04, 0x24 } },       /* [esp] */
	{ M32, 7, 7, { 0x8b, 0x04, 0x25, 1, 2, 3, 4 } }, /* [d32 + none*1] */
	{ M32, 7, 7, { 0x8b, 0x04, 0x65, 1, 2, 3, 4 } }, /* [d32], no index */
	{ M32, 4, 4, { 0x8b, 0x44, 0x24, 8 } },          /* [esp+8] */
	{ M32, 4, 4, { 0x67, 0x8b, 0x46, 1 } },          /* [bp+d8] */
	{ M64, 6, 6, { 0x8b, 0x05, 1, 2, 3, 4 } },       /* [rip+d32] */
	{ M64, 3, 3, { 0x0f, 0x20, 0x05 } },             /* MOV r, CR: mod ignored */
	{ M64, 4, 4, { 0xf0, 0x0f, 0x20, 0xc0 } },       /* MOV r, CR8 (AMD) */
	/* VEX, EVEX, XOP. */
	{ M64, 3, 3, { 0xc5, 0xf8, 0x77 } },             /* VZEROUPPER */
	{ M32, 3, 3, { 0xc5, 0xf8, 0x77 } },
	{ M32, 2, 2, { 0xc5, 0x06 } },                   /* LDS eax, [esi] */
	{ M32, 6, 6, { 0xc4, 0x05, 1, 2, 3, 4 } },       /* LES eax, [d32] */
	{ M32, 2, 2, { 0x62, 0x00 } },                   /* BOUND eax, [eax] */
	{ M64, 5, 5, { 0xc4, 0xe2, 0x79, 0x18, 0x00 } }, /* VBROADCASTSS */
	{ M64, 6, 6, { 0xc4, 0xe3, 0x79, 0x04, 0xc0, 1 } }, /* VPERMILPS ib */
	{ M64, 5, 5, { 0xc5, 0xf9, 0x70, 0xc0, 1 } },    /* VPSHUFD ib */
	{ M64, 6, 6, { 0x62, 0xf1, 0x7c, 0x48, 0x58, 0xc1 } }, /* VADDPS zmm */
	{ M64, 7, 7, { 0x62, 0xf1, 0x7c, 0x48, 0x58, 0x40, 1 } }, /* disp8*N */
	{ M64, 6, 6, { 0x8f, 0xe8, 0x78, 0xc0, 0xc1, 5 } }, /* VPROTB ib */
	{ M64, 5, 5, { 0x8f, 0xe9, 0x78, 0x90, 0xc1 } }, /* VPROTB */
	{ M64, 9, 9, { 0x8f, 0xea, 0x78, 0x10, 0xc1, 1, 2, 3, 4 } }, /* BEXTR id */
	{ M64, 0, 4, { 0x66, 0xc5, 0xf8, 0x77 } },       /* 66 before VEX */
	{ M64, 0, 4, { 0x48, 0xc5, 0xf8, 0x77 } },       /* REX before VEX */
	{ M64, 0, 4, { 0xf0, 0xc5, 0xf8, 0x77 } },       /* LOCK before VEX */
	/* Gone from 64-bit mode, or undefined. */
	{ M64, 0, 1, { 0x06 } }, { M64, 0, 1, { 0x27 } }, { M64, 0, 1, { 0x60 } },
	{ M64, 0, 3, { 0x82, 0xc0, 1 } }, { M64, 0, 2, { 0xd4, 10 } },
	{ M64, 0, 1, { 0xce } }, { M64, 0, 7, { 0xea, 1, 2, 3, 4, 5, 6 } },
	{ M32, 1, 1, { 0x06 } }, { M32, 3, 3, { 0x82, 0xc0, 1 } },
	{ M32, 1, 1, { 0x40 } },                         /* INC eax */
	{ M64, 0, 2, { 0x0f, 0x04 } }, { M64, 2, 2, { 0x0f, 0x0b } }, /* UD2 */
	{ M64, 0, 2, { 0xfe, 0xd0 } },                   /* FE /2 */
	{ M64, 0, 2, { 0xff, 0xd8 } },                   /* CALLF needs memory */
	{ M64, 0, 3, { 0xc6, 0x08, 1 } },                /* C6 /1 */
	{ M64, 3, 3, { 0xc6, 0xf8, 1 } },                /* XABORT */
};

static void test_known_lengths(void **state)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(known); i++) {
		const struct known *k = &known[i];
		unsigned int len = x86_insn_length(k->b, k->n, k->mode);

		if (len != k->len)
			print_message("known[%u]: length %u, expected %u\n", i,
				      len, k->len);
		assert_int_equal(len, k->len);
	}
}

/* At most 15 bytes: 14 prefixes and a one-byte opcode fit, 15 do not. */
static void test_fifteen_bytes(void **state)
{
	static const u8 mov[11] = { 0xc7, 0x84, 0x24, 1, 2, 3, 4, 5, 6, 7, 8 };

	struct x86_insn insn;
	u8 b[20];

	memset(b, 0x66, sizeof(b));
	b[14] = 0x90;
	assert_int_equal(x86_insn_length(b, sizeof(b), X86_MODE_64), 15);
	b[14] = 0x66;
	b[15] = 0x90;
	assert_int_equal(x86_insn_length(b, sizeof(b), X86_MODE_64), 0);
	/* Too long (the CPU's #GP), whether more bytes were there or not. */
	assert_int_equal(x86_decode(b, sizeof(b), X86_MODE_64, &insn), X86_DECODE_TOO_LONG);
	assert_int_equal(x86_decode(b, 15, X86_MODE_64, &insn), X86_DECODE_TOO_LONG);
	/* Fewer than 15 bytes that could begin a longer one: short. */
	assert_int_equal(x86_decode(b, 14, X86_MODE_64, &insn), X86_DECODE_SHORT);
	/* MOV [esp+d32], imm32 is 11 bytes: 4 prefixes fit, 5 do not. */
	memset(b, 0x3e, sizeof(b));
	memcpy(b + 5, mov, sizeof(mov));
	assert_int_equal(x86_insn_length(b + 1, 19, X86_MODE_32), 15);
	assert_int_equal(x86_insn_length(b, 20, X86_MODE_32), 0);
	assert_int_equal(x86_decode(b, 20, X86_MODE_32, &insn), X86_DECODE_TOO_LONG);
}

/* A truncated instruction does not decode, and says so (X86_DECODE_SHORT:
 * the bytes end before it does), and the decoder reads no byte past
 * avail: each case sits at the end of its own heap block, so that ASan
 * catches a read beyond it. The invalid ones are invalid (not short) with
 * all their bytes, and with more after them. */
static void test_truncated(void **state)
{
	struct x86_insn insn;
	unsigned int i, n;

	for (i = 0; i < ARRAY_SIZE(known); i++) {
		for (n = 0; n <= known[i].n && known[i].len; n++) {
			u8 *b = malloc(n ? n : 1);
			int r;

			memcpy(b, known[i].b, n);
			r = x86_decode(b, n, known[i].mode, &insn);
			free(b);
			if (n < known[i].len && r != X86_DECODE_SHORT)
				print_message("known[%u] cut to %u: %d\n", i, n, r);
			assert_int_equal(r, n < known[i].len ? X86_DECODE_SHORT : 0);
		}
		if (!known[i].len) {
			u8 b[X86_MAX_INSN_LEN] = { 0 };

			memcpy(b, known[i].b, known[i].n);
			assert_int_equal(x86_decode(b, known[i].n, known[i].mode, &insn),
					 X86_DECODE_INVALID);
			assert_int_equal(x86_decode(b, sizeof(b), known[i].mode, &insn),
					 X86_DECODE_INVALID);
		}
	}
}

static void test_rex_position(void **state)
{
	struct x86_insn insn;

	/* REX right before the opcode: REX.W wins over 66. */
	assert_int_equal(x86_decode((const u8 *)"\x66\x48\x89\xc0", 4,
				    X86_MODE_64, &insn), 0);
	assert_int_equal(insn.opsize, 8);
	assert_int_equal(insn.rex, 0x48);
	/* A prefix after REX voids it. */
	assert_int_equal(x86_decode((const u8 *)"\x48\x66\x89\xc0", 4,
				    X86_MODE_64, &insn), 0);
	assert_int_equal(insn.opsize, 2);
	assert_int_equal(insn.rex, 0);
	/* Of two REX, the last counts. */
	assert_int_equal(x86_decode((const u8 *)"\x48\x41\x89\x00", 4,
				    X86_MODE_64, &insn), 0);
	assert_int_equal(insn.opsize, 4);
	assert_int_equal(insn.rex, 0x41);
	/* Outside 64-bit mode 40-4F are INC/DEC. */
	assert_int_equal(x86_decode((const u8 *)"\x48\x89\xc0", 3, X86_MODE_32,
				    &insn), 0);
	assert_int_equal(insn.len, 1);
}

static void test_prefix_fields(void **state)
{
	struct x86_insn insn;

	assert_int_equal(x86_decode((const u8 *)"\x26\xf3\x64\xf0\x67\x01\x00",
				    7, X86_MODE_32, &insn), 0);
	assert_int_equal(insn.seg_override, X86_FS); /* the last one */
	assert_int_equal(insn.prefixes, X86_PFX_REP | X86_PFX_LOCK | X86_PFX_ADSIZE);
	assert_int_equal(insn.adsize, 2);
	assert_int_equal(insn.op, X86_OP_ADD);
	assert_true(insn.mem_operand);
	assert_int_equal(x86_decode((const u8 *)"\x0f\xb6\xc0", 3, X86_MODE_64,
				    &insn), 0);
	assert_int_equal(insn.op, X86_OP_MOVZX);
	assert_int_equal(insn.opcode_map, 1);
	assert_false(insn.mem_operand); /* register form */
	assert_int_equal(x86_decode((const u8 *)"\x63\x00", 2, X86_MODE_32,
				    &insn), 0);
	assert_int_equal(insn.op, X86_OP_NONE); /* ARPL */
	assert_int_equal(x86_decode((const u8 *)"\x62\xf1\x7c\x48\x58\xc1", 6,
				    X86_MODE_64, &insn), 0);
	assert_int_equal(insn.vex, 0x62);
	assert_int_equal(insn.op, X86_OP_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_lengths),
		cmocka_unit_test(test_fifteen_bytes),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_rex_position),
		cmocka_unit_test(test_prefix_fields),
		cmocka_unit_test(test_supported_set_16),
		cmocka_unit_test(test_supported_set_32),
		cmocka_unit_test(test_supported_set_64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
