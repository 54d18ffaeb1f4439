/* The x86 decoder over the whole of the one-byte, 0F, 0F 38 and 0F 3A maps,
 * VEX, EVEX and XOP, and random byte strings, against Zydis: wherever Zydis
 * decodes an instruction we must decode it with the same length, immediate
 * and displacement. Where Zydis finds none we may still decode one: we do
 * not check mandatory prefixes, LOCK, or which opcodes of the three-byte
 * maps exist, as the CPU faults on those before lamina could see them. */
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

struct tally {
	unsigned long compared, ours_only, zydis_invalid, failed;
};

/* Decode b (avail bytes) with both; count and report. */
static void compare(enum x86_mode mode, const u8 *b, unsigned int avail,
		    struct tally *t)
{
	struct ref_insn ref;
	struct x86_insn insn;
	char why[200], hex[64];
	bool zy = ref_decode(mode, b, avail, false, &ref);
	bool ours = x86_decode(b, avail, mode, &insn) == 0;

	if (ours)
		assert_true(insn.len >= 1 && insn.len <= MIN(avail, 15u));
	if (!zy) {
		t->zydis_invalid++;
		t->ours_only += ours;
		return;
	}
	if (ours && ref_agrees(&ref, &insn, REF_ENCODING, why)) {
		t->compared++;
		return;
	}
	if (!ours)
		snprintf(why, sizeof(why), "Zydis decodes %u bytes, we do not",
			 ref.len);
	if (t->failed++ < 20) {
		hex_bytes(b, avail, hex);
		print_message("%d-bit mode, %s: %s\n", 16 << mode, hex, why);
	}
}

static void summary(const char *what, const struct tally *t)
{
	print_message("# %s: %lu agree with Zydis; of %lu Zydis rejects, we "
		      "decode %lu\n", what, t->compared, t->zydis_invalid,
		      t->ours_only);
	assert_int_equal(t->failed, 0);
}

/* Prefixes for the map sweep: none, each that changes sizes or selects an
 * SSE form, and in 64-bit mode REX.W and REX.B. */
static const char *const map_prefixes[] = {
	"", "\x66", "\x67", "\xf2", "\xf3", "\x66\xf2", "\x48", "\x41",
};

/* Every opcode of the four maps with every ModRM byte and a SIB that
 * changes with it (base 5, the disp32 form, comes up every 8th). */
static void sweep_maps(enum x86_mode mode)
{
	static const u8 escape[4][2] = { { 0 }, { 0x0f }, { 0x0f, 0x38 }, { 0x0f, 0x3a } };
	struct tally t = { 0, 0, 0, 0 };
	unsigned int p, map, op, m, n, i, np;
	u8 b[X86_MAX_INSN_LEN];

	np = mode == X86_MODE_64 ? ARRAY_SIZE(map_prefixes) : 6;
	for (p = 0; p < np; p++)
		for (map = 0; map < 4; map++)
			for (op = 0; op < 256; op++)
				for (m = 0; m < 256; m++) {
					n = strlen(map_prefixes[p]);
					memcpy(b, map_prefixes[p], n);
					for (i = 0; i < map && i < 2; i++)
						b[n++] = escape[map][i];
					b[n++] = (u8)op;
					b[n++] = (u8)m;
					b[n++] = (u8)(m * 37 + 5);
					for (i = n; i < X86_MAX_INSN_LEN; i++)
						b[i] = (u8)(0x80 + 0x3b * i + m);
					compare(mode, b, X86_MAX_INSN_LEN, &t);
				}
	summary("maps", &t);
}

static void test_maps_16(void **state) { sweep_maps(X86_MODE_16); }
static void test_maps_32(void **state) { sweep_maps(X86_MODE_32); }
static void test_maps_64(void **state) { sweep_maps(X86_MODE_64); }

/* xorshift64: deterministic, so that a failure can be reproduced. */
static u64 rnd_state = 0x9e3779b97f4a7c15ull;

static u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void random_bytes(u8 *b)
{
	unsigned int k;

	for (k = 0; k < X86_MAX_INSN_LEN; k++)
		b[k] = (u8)rnd();
}

/* A map number that exists for the escape: VEX 1-3, EVEX 1-3, 5, 6 (its
 * P0 bit 3 is reserved 0), XOP 8-10. C5 has no map field. */
static u8 valid_map(u8 esc)
{
	static const u8 evex[5] = { 1, 2, 3, 5, 6 };

	switch (esc) {
	case 0xc4: return 1 + rnd() % 3;
	case 0x62: return evex[rnd() % 5];
	case 0x8f: return 8 + rnd() % 3;
	default: return (u8)rnd() & 0x1f;
	}
}

/* VEX (C4, C5), EVEX (62) and XOP (8F) with random payloads, sometimes
 * behind 67 or a segment override (allowed) or 66/REX (#UD). */
static void test_vex(void **state)
{
	static const u8 escapes[4] = { 0xc4, 0xc5, 0x62, 0x8f };
	static const u8 pfx[6] = { 0x67, 0x65, 0x2e, 0x66, 0x48, 0xf3 };
	struct tally t = { 0, 0, 0, 0 };
	unsigned int i, n, mode;
	u8 b[X86_MAX_INSN_LEN];

	for (i = 0; i < 1200000; i++) {
		mode = i % 3;
		random_bytes(b);
		n = rnd() % 8 < 6 ? 0 : 1;
		if (n)
			b[0] = pfx[rnd() % 6];
		b[n] = escapes[rnd() % 4];
		if (rnd() % 8) /* mostly a map that exists */
			b[n + 1] = (b[n + 1] & 0xe0) | valid_map(b[n]);
		if (b[n] == 0x62) /* mostly well-formed EVEX */
			b[n + 2] = (b[n + 2] & ~0x0cu) | (rnd() % 16 ? 0x04 : 0);
		if (rnd() % 2) /* the mode-3 ModRM that VEX needs in 16/32-bit code */
			b[n + 1] |= 0xc0;
		compare((enum x86_mode)mode, b, X86_MAX_INSN_LEN, &t);
	}
	summary("VEX/EVEX/XOP", &t);
	assert_true(t.compared > 250000);
}

/* Byte strings that start with a run of random prefixes and escapes, so
 * that prefixes, maps and REX are met far more often than in plain random
 * bytes. A quarter are decoded with avail cut to Zydis's length and one
 * less, from an exact-size heap block (ASan: no read past avail). */
static const u8 prefix_pool[] = {
	0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65,
	0x40, 0x48, 0x41, 0x4c, 0x0f, 0x0f, 0xc4, 0xc5, 0x62, 0x8f,
};

static void check_truncation(enum x86_mode mode, const u8 *b)
{
	struct ref_insn ref;
	u8 *p;

	if (!ref_decode(mode, b, X86_MAX_INSN_LEN, false, &ref))
		return;
	p = malloc(ref.len);
	memcpy(p, b, ref.len);
	assert_int_equal(x86_insn_length(p, ref.len, mode), ref.len);
	assert_int_equal(x86_insn_length(p + 1, ref.len - 1, mode) <= ref.len - 1, 1);
	assert_int_equal(x86_insn_length(p, ref.len - 1, mode), 0);
	free(p);
}

static void test_random(void **state)
{
	struct tally t = { 0, 0, 0, 0 };
	unsigned int i, k, np, mode;
	u8 b[X86_MAX_INSN_LEN];

	for (i = 0; i < 3000000; i++) {
		mode = i % 3;
		random_bytes(b);
		np = rnd() % 5;
		for (k = 0; k < np; k++)
			b[k] = prefix_pool[rnd() % sizeof(prefix_pool)];
		compare((enum x86_mode)mode, b, X86_MAX_INSN_LEN, &t);
		if (i % 4 == 0)
			check_truncation((enum x86_mode)mode, b);
	}
	summary("random", &t);
	assert_true(t.compared > 2000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_16),
		cmocka_unit_test(test_maps_32),
		cmocka_unit_test(test_maps_64),
		cmocka_unit_test(test_vex),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
