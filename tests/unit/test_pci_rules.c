/* The PCI config-space rule engine against a model device: a 4 KiB
 * register file with per-bit writable and write-1-to-clear masks that
 * records every hardware access (so widths and refusals can be checked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <core/pci_rules.h>

struct model {
	uint8_t regs[4096], wmask[4096], rw1c[4096];
	int reads, writes;
	uint16_t last_off;
	unsigned int last_size;
	int refusals;
	uint32_t refused_bits;
	const char *refused_rule;
	uint64_t refused_count[16]; /* the rule's count at each report */
};

static uint32_t m_get(struct model *m, uint16_t off, unsigned int size)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (uint32_t)m->regs[off + i] << (8 * i);
	return v;
}

static uint32_t m_read(void *arg, uint16_t off, unsigned int size)
{
	struct model *m = arg;

	m->reads++;
	return m_get(m, off, size);
}

/* What hardware does: writable bits take the value, RW1C bits clear on 1. */
static void m_write(void *arg, uint16_t off, unsigned int size, uint32_t val)
{
	struct model *m = arg;

	m->writes++;
	m->last_off = off;
	m->last_size = size;
	for (unsigned int i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i)), *r = &m->regs[off + i];
		*r = (uint8_t)((*r & ~m->wmask[off + i]) | (b & m->wmask[off + i]));
		*r &= (uint8_t)~(b & m->rw1c[off + i]);
	}
}

static void m_refused(void *arg, const struct pci_rule *r, uint16_t off, unsigned int size,
		      uint32_t val, uint32_t bits)
{
	struct model *m = arg;

	if (m->refusals < 16)
		m->refused_count[m->refusals] = r->refusals;
	m->refusals++;
	m->refused_bits = bits;
	m->refused_rule = r->name;
}

static void m_set(struct model *m, uint16_t off, unsigned int size, uint32_t val,
		  uint32_t wmask, uint32_t rw1c)
{
	for (unsigned int i = 0; i < size; i++) {
		m->regs[off + i] = (uint8_t)(val >> (8 * i));
		m->wmask[off + i] = (uint8_t)(wmask >> (8 * i));
		m->rw1c[off + i] = (uint8_t)(rw1c >> (8 * i));
	}
}

static struct model *new_model(struct pci_hw *hw)
{
	struct model *m = calloc(1, sizeof(*m));

	*hw = (struct pci_hw){ m_read, m_write, m_refused, m };
	return m;
}

static void test_no_rule_passes_at_guest_width(void **state)
{
	struct pci_rules rs = { 0 };
	struct pci_hw hw;
	struct model *m = new_model(&hw);

	m_set(m, 0x10, 4, 0x12345678, 0xffffffff, 0);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x11, 2), 0x3456);
	pci_rules_write(&rs, &hw, 0x12, 1, 0xab);
	assert_int_equal(m->writes, 1);
	assert_int_equal(m->last_off, 0x12);
	assert_int_equal(m->last_size, 1);
	assert_int_equal(m_get(m, 0x10, 4), 0x12ab5678);
	free(m);
}

/* Command register 0x04 with bus master (bit 2) read-only; status (0x06)
 * holds RW1C bits that a merged write must not clear by accident. */
static void test_read_only_bit_refused_and_rw1c_kept(void **state)
{
	struct pci_rules rs = { 0 };
	struct pci_hw hw;
	struct model *m = new_model(&hw);
	struct pci_rule r = { .reg = 0x04, .name = "no bus master", .ro = 0x4,
			      .rw1c = 0xf9000000 };

	m_set(m, 0x04, 2, 0x0006, 0x0507, 0);      /* command: mem, master on */
	m_set(m, 0x06, 2, 0x8010, 0, 0xf900);      /* status: an error bit set */
	assert_int_equal(pci_rule_add(&rs, &r), 0);

	/* Turning the master bit off is refused; IO on goes through. */
	pci_rules_write(&rs, &hw, 0x04, 2, 0x0003);
	assert_int_equal(m->refusals, 1);
	assert_int_equal(m->refused_bits, 0x4);
	assert_string_equal(m->refused_rule, "no bus master");
	assert_int_equal(m_get(m, 0x04, 2), 0x0007);
	assert_int_equal(m->last_size, 2); /* status untouched by width */
	assert_int_equal(m_get(m, 0x06, 2), 0x8010);

	/* A dword write that leaves the master bit alone and writes 0 to the
	 * status: no refusal, the error bit stays. */
	pci_rules_write(&rs, &hw, 0x04, 4, 0x00000007);
	assert_int_equal(m->refusals, 1);
	assert_int_equal(m_get(m, 0x06, 2), 0x8010);

	/* Clearing the status bit with a 1 is a pass bit: it clears. */
	pci_rules_write(&rs, &hw, 0x04, 4, 0x80000007);
	assert_int_equal(m_get(m, 0x06, 2), 0x0010);
	free(m);
}

static void test_read_only_rw1c_bit_is_not_cleared(void **state)
{
	struct pci_rules rs = { 0 };
	struct pci_hw hw;
	struct model *m = new_model(&hw);
	struct pci_rule r = { .reg = 0x04, .name = "keep error", .ro = 0x80000000,
			      .rw1c = 0x80000000 };

	m_set(m, 0x06, 2, 0x8000, 0, 0x8000);
	pci_rule_add(&rs, &r);
	pci_rules_write(&rs, &hw, 0x06, 2, 0x8000);
	assert_int_equal(m->refusals, 1);
	assert_int_equal(m->refused_bits, 0x8000); /* in the access's own lanes */
	assert_int_equal(m_get(m, 0x06, 2), 0x8000);
	free(m);
}

/* A guest looping on a refused write (bus mastering under nodma=) is
 * reported at its 1st, 2nd, 4th, 8th, ... try with the count so far; every
 * try is counted and refused, and writes that change nothing kept are
 * neither counted nor reported. */
static void test_refusals_reported_at_powers_of_two(void **state)
{
	struct pci_rules rs = { 0 };
	struct pci_hw hw;
	struct model *m = new_model(&hw);
	struct pci_rule r = { .reg = 0x04, .name = "no bus master", .ro = 0x4 };
	static const uint64_t want[] = { 1, 2, 4, 8, 16, 32, 64 };

	m_set(m, 0x04, 2, 0x0002, 0x0507, 0);
	pci_rule_add(&rs, &r);
	for (int i = 0; i < 100; i++) {
		pci_rules_write(&rs, &hw, 0x04, 2, 0x0006);
		pci_rules_write(&rs, &hw, 0x04, 2, 0x0003); /* master stays off: fine */
	}
	assert_int_equal(m->refusals, ARRAY_SIZE(want));
	for (unsigned int i = 0; i < ARRAY_SIZE(want); i++)
		assert_int_equal(m->refused_count[i], want[i]);
	assert_int_equal(pci_rule_find(&rs, 0x04)->refusals, 100);
	assert_int_equal(m_get(m, 0x04, 2), 0x0003);
	/* Rules count apart. */
	struct pci_rule r2 = { .reg = 0x40, .name = "other", .ro = 0x1 };
	pci_rule_add(&rs, &r2);
	pci_rules_write(&rs, &hw, 0x40, 1, 0x1);
	assert_int_equal(m->refusals, ARRAY_SIZE(want) + 1);
	assert_int_equal(m->refused_count[ARRAY_SIZE(want)], 1);
	free(m);
}

static void test_emulated_bits(void **state)
{
	struct pci_rules rs = { 0 };
	struct pci_hw hw;
	struct model *m = new_model(&hw);
	struct pci_rule r = { .reg = 0x40, .name = "shadow", .emul = 0x0000ffff,
			      .emul_ro = 0x000000f0, .shadow = 0x00001234 };

	m_set(m, 0x40, 4, 0xaaaa5555, 0xffffffff, 0);
	pci_rule_add(&rs, &r);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x40, 4), 0xaaaa1234);
	pci_rules_write(&rs, &hw, 0x40, 4, 0xbbbbffff);
	/* Writable emulated bits took the value, emul_ro ones did not; the
	 * hardware got the pass bits and kept its own low half. */
	assert_int_equal(pci_rules_read(&rs, &hw, 0x40, 2), 0xff3f);
	assert_int_equal(m_get(m, 0x40, 4), 0xbbbb5555);
	/* A write to emulated lanes only never reaches the hardware. */
	int writes = m->writes;
	pci_rules_write(&rs, &hw, 0x40, 1, 0x00);
	assert_int_equal(m->writes, writes);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x40, 1), 0x30);
	free(m);
}

/* Capability list 0x34 -> 0x40 -> 0x50 -> 0x60 -> end; hide 0x50. */
static void test_hide_capability(void **state)
{
	struct pci_rules rs = { 0 };
	struct pci_hw hw;
	struct model *m = new_model(&hw);
	uint16_t seen[8];
	unsigned int n = 0;

	m_set(m, 0x34, 1, 0x40, 0, 0);
	m_set(m, 0x40, 2, 0x5001, 0, 0);
	m_set(m, 0x50, 2, 0x6005, 0, 0);
	m_set(m, 0x60, 2, 0x0010, 0, 0);
	assert_int_equal(pci_rules_hide_cap(&rs, 0x40, 0x50, 0x60), 0);
	for (uint16_t off = pci_rules_read(&rs, &hw, 0x34, 1); off && n < 8;
	     off = pci_rules_read(&rs, &hw, off + 1, 1))
		seen[n++] = off;
	assert_int_equal(n, 2);
	assert_int_equal(seen[0], 0x40);
	assert_int_equal(seen[1], 0x60);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x40, 1), 0x01); /* id kept */
	assert_int_equal(pci_rules_read(&rs, &hw, 0x50, 4), 0);
	/* Hiding the first one rewrites the list head. */
	assert_int_equal(pci_rules_hide_cap(&rs, 0, 0x40, 0x60), 0);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x34, 1), 0x60);
	assert_int_equal(pci_rules_hide_cap(&rs, 0, 0x20, 0), -1);
	free(m);
}

/* 0x34 -> 0x40 -> 0x50 -> 0x60 -> 0x70 -> end; hide 0x50, then 0x60 (its
 * visible predecessor is still 0x40): the second link rule merges into the
 * first, as nomsi= does for MSI followed by MSI-X. */
static void test_hide_adjacent_capabilities(void **state)
{
	struct pci_rules rs = { 0 };
	struct pci_hw hw;
	struct model *m = new_model(&hw);

	m_set(m, 0x34, 1, 0x40, 0, 0);
	m_set(m, 0x40, 2, 0x5001, 0, 0);
	m_set(m, 0x50, 2, 0x6005, 0, 0);
	m_set(m, 0x60, 2, 0x7011, 0, 0);
	m_set(m, 0x62, 2, 0, 0xffff, 0); /* control: writable in the device */
	m_set(m, 0x70, 2, 0x0010, 0, 0);
	assert_int_equal(pci_rules_hide_cap(&rs, 0x40, 0x50, 0x60), 0);
	assert_int_equal(pci_rules_hide_cap(&rs, 0x40, 0x60, 0x70), 0);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x34, 1), 0x40);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x40, 2), 0x7001);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x70, 2), 0x0010);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x50, 4), 0);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x60, 4), 0);
	/* The guest cannot turn the hidden capability's control bits on. */
	pci_rules_write(&rs, &hw, 0x62, 2, 0x8000);
	assert_int_equal(m_get(m, 0x62, 2), 0);
	free(m);
}

static void test_virtual_bar_sizing(void **state)
{
	struct pci_rules rs = { 0 };
	struct pci_hw hw;
	struct model *m = new_model(&hw);

	m_set(m, 0x10, 4, 0xfeb80000, 0xfffe0000, 0);
	assert_int_equal(pci_rules_virt_bar(&rs, 0x10, 0x20000, 0xfeb80000), 0);
	pci_rules_write(&rs, &hw, 0x10, 4, 0xffffffff);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x10, 4), 0xfffe0000);
	pci_rules_write(&rs, &hw, 0x10, 4, 0xe0000000);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x10, 4), 0xe0000000);
	assert_int_equal(m->writes, 0);
	assert_int_equal(m_get(m, 0x10, 4), 0xfeb80000);
	/* An I/O BAR keeps bit 0. */
	assert_int_equal(pci_rules_virt_bar(&rs, 0x18, 0x20, 0xc041), 0);
	pci_rules_write(&rs, &hw, 0x18, 4, 0xffffffff);
	assert_int_equal(pci_rules_read(&rs, &hw, 0x18, 4), 0xffffffe1);
	assert_int_equal(pci_rules_virt_bar(&rs, 0x18, 0x30, 0), -1);
	free(m);
}

static void test_concealed_function(void **state)
{
	struct pci_rules rs = { .all_ones = true };
	struct pci_hw hw;
	struct model *m = new_model(&hw);

	m_set(m, 0, 4, 0x10d38086, 0xffffffff, 0);
	assert_int_equal(pci_rules_read(&rs, &hw, 0, 4), 0xffffffff);
	assert_int_equal(pci_rules_read(&rs, &hw, 2, 2), 0xffff);
	assert_int_equal(pci_rules_read(&rs, &hw, 0xfff, 1), 0xff);
	pci_rules_write(&rs, &hw, 0x04, 2, 0);
	assert_int_equal(m->reads + m->writes, 0);
	free(m);
}

static void test_rule_table(void **state)
{
	struct pci_rules rs = { 0 };
	struct pci_rule r = { .reg = 0x44, .ro = 1, .emul = 0xff00, .shadow = 0x1200 };
	struct pci_rule r2 = { .reg = 0x44, .ro = 2, .emul = 0xff, .shadow = 0x34 };

	assert_int_equal(pci_rule_add(&rs, &r), 0);
	assert_int_equal(pci_rule_add(&rs, &r2), 0);
	assert_int_equal(rs.n, 1);
	const struct pci_rule *e = pci_rule_find(&rs, 0x44);
	assert_int_equal(e->ro, 3);
	assert_int_equal(e->emul, 0xffff);
	assert_int_equal(e->shadow, 0x1234);
	r.reg = 0x45;
	assert_int_equal(pci_rule_add(&rs, &r), -1);
	for (unsigned int i = 1; i < PCI_MAX_RULES; i++) {
		struct pci_rule x = { .reg = (uint16_t)(0x100 + 4 * i) };
		assert_int_equal(pci_rule_add(&rs, &x), 0);
	}
	struct pci_rule full = { .reg = 0x800 };
	assert_int_equal(pci_rule_add(&rs, &full), -1);
}

/* Random rules and accesses against a bit-level model of the policy. */
static void test_random_against_model(void **state)
{
	srand(12345);
	for (int iter = 0; iter < 2000; iter++) {
		struct pci_rules rs = { 0 };
		struct pci_hw hw;
		struct model *m = new_model(&hw);
		uint32_t hwv = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
		uint32_t wm = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
		struct pci_rule r = {
			.reg = 0x40, .name = "r",
			.ro = (uint32_t)rand() & 0x0f0f0f0f,
			.emul = (uint32_t)rand() & 0xf0f0f0f0,
			.emul_ro = (uint32_t)rand(), .shadow = (uint32_t)rand(),
		};
		m_set(m, 0x40, 4, hwv, wm, 0);
		pci_rule_add(&rs, &r);
		unsigned int size = 1u << (rand() % 3);
		uint16_t off = (uint16_t)(0x40 + (rand() % (4 / size)) * size);
		uint32_t val = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
		unsigned int shift = (off & 3) * 8;
		uint32_t lanes = (size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1) << shift;
		uint32_t now = (val << shift) & lanes;
		uint32_t pass = ~r.ro & ~r.emul & lanes & wm;
		uint32_t want_hw = (hwv & ~pass) | (now & pass);
		uint32_t sw = r.emul & ~r.emul_ro & lanes;
		uint32_t want_shadow = (r.shadow & ~sw) | (now & sw);

		pci_rules_write(&rs, &hw, off, size, val & (uint32_t)((1ull << (size * 8)) - 1));
		assert_int_equal(m_get(m, 0x40, 4), want_hw);
		uint32_t got = pci_rules_read(&rs, &hw, 0x40, 4);
		assert_int_equal(got, (want_shadow & r.emul) | (want_hw & ~r.emul));
		assert_int_equal(m->refusals, ((now ^ hwv) & r.ro & lanes) ? 1 : 0);
		free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_rule_passes_at_guest_width),
		cmocka_unit_test(test_read_only_bit_refused_and_rw1c_kept),
		cmocka_unit_test(test_read_only_rw1c_bit_is_not_cleared),
		cmocka_unit_test(test_refusals_reported_at_powers_of_two),
		cmocka_unit_test(test_emulated_bits),
		cmocka_unit_test(test_hide_capability),
		cmocka_unit_test(test_hide_adjacent_capabilities),
		cmocka_unit_test(test_virtual_bar_sizing),
		cmocka_unit_test(test_concealed_function),
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
