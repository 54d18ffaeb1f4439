/* Concealment end to end on the host: the driver registry
 * (core/pci/pci_driver.c), the selection lists (pci_select.c) and the
 * conceal driver (drivers/pci/conceal.c) against a few model functions,
 * with lamina's platform services (MMIO and port traps, config access,
 * the heap) replaced by recorders here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <core/format.h>
#include <core/io.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/mmio.h>
#include <core/nested.h>
#include <core/options.h>
#include <core/pci.h>
#include <x86/paging.h>

#define NESTED_LIMIT (1ull << 40)
#define MAX_FUNCS 8
#define MAX_TRAPS 16
#define MAX_MSGS 32

/* A function as the harness holds it: lamina's record and the
 * configuration space behind it. */
struct model_func {
	struct pci_func f;
	u8 cfg[4096];
	u8 stuck[4096]; /* bits a write cannot clear */
};

static struct model_func funcs[MAX_FUNCS];
static unsigned int nfuncs;
static struct mmio_region *mmio[MAX_TRAPS];
static struct io_hook *ports[MAX_TRAPS];
static unsigned int nmmio, nports;
static char msgs[MAX_MSGS][300];
static unsigned int nmsgs;

struct home home;

/* ---- lamina's services, as recorders ---- */

void log_console(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	assert_true(nmsgs < MAX_MSGS);
	va_start(ap, fmt);
	vsnprintf(msgs[nmsgs++], sizeof(msgs[0]), fmt, ap);
	va_end(ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
}

const struct mmio_ops mmio_absent_ops;
const struct io_ops io_absent_ops;

int mmio_register(struct mmio_region *r)
{
	assert_true(nmmio < MAX_TRAPS);
	mmio[nmmio++] = r;
	return 0;
}

int io_hook_register(struct io_hook *h)
{
	assert_true(nports < MAX_TRAPS);
	ports[nports++] = h;
	return 0;
}

/* Device memory lamina maps: one page of the model's, per address. */
#define MAX_PAGES 4
static struct { u64 pa; u8 *mem; } pages[MAX_PAGES];
static unsigned int npages;

void *io_map(u64 pa, u64 size)
{
	assert_int_equal(size, PAGE_SIZE);
	assert_true(npages < MAX_PAGES);
	pages[npages].pa = pa;
	pages[npages].mem = calloc(1, PAGE_SIZE);
	return pages[npages++].mem;
}

static u8 *device_page(u64 pa)
{
	for (unsigned int i = 0; i < npages; i++)
		if (pages[i].pa == pa)
			return pages[i].mem;
	fail_msg("page %#llx not mapped", (unsigned long long)pa);
	return NULL;
}

u64 nested_limit(void)
{
	return NESTED_LIMIT;
}

/* From an arena never given back, as lamina never frees what drivers
 * allocate at boot: conceal.c keeps its list of shared pages across
 * tests, so a test that conceals small BARs uses pages of its own. */
void *kzalloc(size_t size)
{
	static _Alignas(16) u8 arena[256 * KiB];
	static size_t used;

	size = ALIGN_UP(size, 16);
	assert_true(size <= sizeof(arena) - used);
	used += size;
	return memset(arena + used - size, 0, size);
}

int pci_trap_config(struct pci_func *f)
{
	f->trapped = true;
	return 0;
}

void pci_access_init(void)
{
}

void pci_enumerate(void)
{
}

int pci_config_hook_ports(void)
{
	return 0;
}

struct pci_func *pci_first(void)
{
	return nfuncs ? &funcs[0].f : NULL;
}

const char *pci_name(const struct pci_func *f, char *buf, size_t size)
{
	format(buf, size, "%02x:%02x.%x (%04x:%04x)", f->bus, f->dev, f->fn, f->vendor,
	       f->device);
	return buf;
}

static struct model_func *model_of(const struct pci_func *f)
{
	return container_of(f, struct model_func, f);
}

u32 pci_func_read(const struct pci_func *f, u16 off, unsigned int size)
{
	u32 v = 0;

	memcpy(&v, &model_of(f)->cfg[off], size);
	return v;
}

void pci_func_write(const struct pci_func *f, u16 off, unsigned int size, u32 val)
{
	struct model_func *m = model_of(f);

	memcpy(&m->cfg[off], &val, size);
	for (unsigned int i = 0; i < size; i++)
		m->cfg[off + i] |= m->stuck[off + i];
}

/* ---- the model ---- */

static int reset(void **state)
{
	for (unsigned int i = 0; i < npages; i++)
		free(pages[i].mem);
	npages = 0;
	memset(funcs, 0, sizeof(funcs));
	nfuncs = nmmio = nports = nmsgs = 0;
	return 0;
}

/* A function of a network class, at bus:dev.fn, after the ones added
 * before it in the list. */
static struct pci_func *add_func(u8 bus, u8 dev, u8 fn, u16 vendor, u16 device)
{
	struct model_func *m = &funcs[nfuncs];

	assert_true(nfuncs < MAX_FUNCS);
	m->f = (struct pci_func){ .bus = bus, .dev = dev, .fn = fn, .vendor = vendor,
				  .device = device, .class_rev = 0x020000 << 8, .nbars = 6 };
	if (nfuncs)
		funcs[nfuncs - 1].f.next = &m->f;
	nfuncs++;
	return &m->f;
}

static void add_bar(struct pci_func *f, unsigned int i, enum pci_bar_kind kind, u64 base,
		    u64 size)
{
	f->bar[i] = (struct pci_bar){ .kind = kind, .base = base, .size = size };
}

static void option_report(const char *msg, void *arg)
{
	fail_msg("option refused: %s", msg);
}

/* pci_init with this command line. */
static bool init_with(const char *cmdline)
{
	struct pci_select *sel = NULL;

	for (const struct option_desc *o = options_begin(); o < options_end(); o++)
		if (!strcmp(o->name, "conceal"))
			sel = o->target;
	assert_non_null(sel);
	sel->n = 0; /* the list is static in conceal.c: start afresh */
	assert_true(options_parse(cmdline, option_report, NULL));
	return pci_init();
}

/* Whether a message lamina printed contains s (else they are shown). */
static bool has_msg(const char *s)
{
	for (unsigned int i = 0; i < nmsgs; i++)
		if (strstr(msgs[i], s))
			return true;
	for (unsigned int i = 0; i < nmsgs; i++)
		printf("# lamina: %s\n", msgs[i]);
	return false;
}

/* ---- tests ---- */

static void test_conceals_function(void **state)
{
	struct pci_func *f = add_func(0, 2, 0, 0x8086, 0x10d3);

	add_bar(f, 0, PCI_BAR_MEM32, 0xfeb80000, 0x20000);
	add_bar(f, 2, PCI_BAR_IO, 0xc040, 0x20);
	assert_true(init_with("conceal=00:02.0"));
	assert_true(f->rules.all_ones);
	assert_true(f->trapped);
	assert_int_equal(nmmio, 1);
	assert_int_equal(mmio[0]->base, 0xfeb80000);
	assert_int_equal(mmio[0]->size, 0x20000);
	assert_int_equal(nports, 1);
	assert_int_equal(ports[0]->base, 0xc040);
	assert_int_equal(ports[0]->count, 0x20);
}

/* Two functions match one VVVV:DDDD entry and the second cannot be
 * concealed (a BAR past the nested page tables): the guest must not
 * start, in either order, and the one that failed is not half concealed. */
static void test_one_of_two_matches_fails(void **state)
{
	for (int bad = 0; bad < 2; bad++) {
		reset(NULL);
		struct pci_func *f[2] = { add_func(1, 0, 0, 0x8086, 0x10d3),
					  add_func(2, 0, 0, 0x8086, 0x10d3) };
		add_bar(f[0], 0, PCI_BAR_MEM32, 0xfe000000, 0x1000);
		add_bar(f[1], 0, PCI_BAR_MEM32, 0xfe100000, 0x1000);
		f[bad]->bar[0].base = NESTED_LIMIT;
		assert_false(init_with("conceal=8086:10d3"));
		assert_false(f[bad]->rules.all_ones);
		assert_true(f[!bad]->rules.all_ones);
		assert_true(has_msg("could not be concealed"));
		assert_true(has_msg("cannot hide it"));
	}
}

/* A VGA device, an IDE controller in compatibility mode and an ISA
 * bridge answer outside their BARs: refused, named, their command
 * register (decoding) untouched; an IDE controller in native mode on both
 * channels is concealed. */
static void test_legacy_decoders_refused(void **state)
{
	static const struct { u32 class; const char *word; } cases[] = {
		{ 0x030000, "VGA" }, { 0x010180, "IDE" }, { 0x060100, "ISA" },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		reset(NULL);
		struct pci_func *f = add_func(0, 1, 0, 0x1234, 0x1111);
		f->class_rev = cases[i].class << 8;
		pci_func_write(f, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEM);
		add_bar(f, 0, PCI_BAR_MEM32, 0xfd000000, 0x1000000);
		assert_false(init_with("conceal=00:01.0"));
		assert_false(f->rules.all_ones);
		assert_int_equal(nmmio, 0);
		assert_true(has_msg(cases[i].word));
		assert_true(has_msg("pci 00:01.0 (1234:1111): conceal: class"));
		assert_true(has_msg("cannot hide"));
		assert_int_equal(pci_func_read(f, PCI_COMMAND, 2), PCI_COMMAND_IO | PCI_COMMAND_MEM);
	}
	reset(NULL);
	struct pci_func *f = add_func(0, 1, 1, 0x8086, 0x7010);
	f->class_rev = 0x01018f << 8;
	assert_true(init_with("conceal=00:01.1"));
	assert_true(f->rules.all_ones);
}

/* An expansion ROM the firmware left enabled is turned off (0x30 in a
 * device, 0x38 in a bridge), one left off is not written, and one whose
 * enable bit sticks stops the guest. */
static void test_rom_turned_off(void **state)
{
	struct pci_func *dev = add_func(0, 2, 0, 0x8086, 0x10d3);
	struct pci_func *off = add_func(0, 3, 0, 0x8086, 0x10d3);
	struct pci_func *bridge = add_func(0, 4, 0, 0x1b36, 0x0001);

	bridge->header_type = 1;
	bridge->nbars = 2;
	bridge->class_rev = 0x060400 << 8;
	pci_func_write(dev, PCI_ROM_ADDRESS, 4, 0xfeb40001);
	pci_func_write(off, PCI_ROM_ADDRESS, 4, 0xfeb00000);
	pci_func_write(bridge, PCI_ROM_ADDRESS_BRIDGE, 4, 0xfe800001);
	pci_func_write(bridge, PCI_ROM_ADDRESS, 4, 0x00000001); /* not a ROM BAR there */
	assert_true(init_with("conceal=00:02.0,00:03.0,00:04.0"));
	assert_int_equal(pci_func_read(dev, PCI_ROM_ADDRESS, 4), 0xfeb40000);
	assert_int_equal(pci_func_read(bridge, PCI_ROM_ADDRESS_BRIDGE, 4), 0xfe800000);
	assert_int_equal(pci_func_read(bridge, PCI_ROM_ADDRESS, 4), 1);
	assert_true(has_msg("pci 00:02.0 (8086:10d3): conceal: expansion ROM at 0xfeb40000 turned off"));
	assert_true(has_msg("pci 00:04.0 (1b36:0001): conceal: expansion ROM at 0xfe800000 turned off"));
	assert_false(has_msg("pci 00:03.0 (8086:10d3): conceal: expansion ROM"));

	reset(NULL);
	dev = add_func(0, 2, 0, 0x8086, 0x10d3);
	pci_func_write(dev, PCI_ROM_ADDRESS, 4, 0xfeb40001);
	model_of(dev)->stuck[PCI_ROM_ADDRESS] = PCI_ROM_ENABLE;
	assert_false(init_with("conceal=00:02.0"));
	assert_false(dev->rules.all_ones);
	assert_true(has_msg("expansion ROM at 0xfeb40000 stays enabled; cannot hide it"));
}

/* Function 0 of a multi-function device concealed: the guest would not
 * look for the rest, so the siblings left visible are named and the
 * guest refused, unless all of them are concealed too. Concealing
 * another function alone is fine. */
static void test_function_0_with_siblings(void **state)
{
	static const struct { const char *cmdline; bool ok; const char *named; } cases[] = {
		{ "conceal=00:05.0", false, "other functions (00:05.1 00:05.3) either" },
		{ "conceal=00:05.0,00:05.3", false, "other functions (00:05.1) either" },
		{ "conceal=00:05.0,00:05.1,00:05.3", true, NULL },
		{ "conceal=00:05.0 conceal=8086:100e", true, NULL },
		{ "conceal=00:05.1", true, NULL },
		{ "conceal=00:06.0", true, NULL },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		reset(NULL);
		add_func(0, 5, 0, 0x8086, 0x10d3);
		add_func(0, 5, 1, 0x8086, 0x100e);
		add_func(0, 5, 3, 0x8086, 0x100e);
		add_func(0, 6, 0, 0x8086, 0x10d3);
		add_func(1, 5, 1, 0x8086, 0x10d3); /* another bus */
		assert_int_equal(init_with(cases[i].cmdline), cases[i].ok);
		if (cases[i].named) {
			assert_true(has_msg("pci 00:05.0 (8086:10d3): conceal: function 0 of a "
					    "multi-function device"));
			assert_true(has_msg(cases[i].named));
		}
	}
}

static u64 guest_read(struct mmio_region *r, u64 gpa, unsigned int size)
{
	u64 v = 0;

	assert_true(gpa >= r->base && gpa + size <= r->base + r->size);
	r->ops->read(NULL, r, gpa, &v, size);
	return v;
}

static void guest_write(struct mmio_region *r, u64 gpa, unsigned int size, u64 v)
{
	r->ops->write(NULL, r, gpa, &v, size);
}

/* Firmware packs small BARs: two concealed functions' BARs (0x100 and
 * 0x400 bytes) share a page with a visible device's 0x800-byte BAR. One
 * trap covers the page; accesses in the concealed BARs (or across their
 * edges) read all-ones and drop writes, the others reach the hardware at
 * their width. A BAR of a page or more is trapped whole, as before. */
static void test_small_bars_share_a_page(void **state)
{
	struct pci_func *a = add_func(0, 2, 0, 0x8086, 0x10d3);
	struct pci_func *b = add_func(0, 3, 0, 0x8086, 0x10d3);
	struct pci_func *visible = add_func(0, 4, 0, 0x1af4, 0x1000);

	add_bar(a, 0, PCI_BAR_MEM32, 0xfebd4800, 0x100);
	add_bar(a, 1, PCI_BAR_MEM32, 0xfeb80000, 0x20000);
	add_bar(b, 2, PCI_BAR_MEM32, 0xfebd4c00, 0x400);
	add_bar(visible, 0, PCI_BAR_MEM32, 0xfebd4000, 0x800);
	assert_true(init_with("conceal=00:02.0,00:03.0"));
	assert_int_equal(nmmio, 2);
	struct mmio_region *page = mmio[0]->size == PAGE_SIZE ? mmio[0] : mmio[1];
	struct mmio_region *big = page == mmio[0] ? mmio[1] : mmio[0];
	assert_int_equal(page->base, 0xfebd4000);
	assert_int_equal(big->base, 0xfeb80000);
	assert_int_equal(big->size, 0x20000);

	u8 *hw = device_page(0xfebd4000);
	memset(hw, 0x5a, PAGE_SIZE);
	/* The visible device's BAR: the hardware, both ways, every width. */
	assert_int_equal(guest_read(page, 0xfebd4000, 4), 0x5a5a5a5a);
	guest_write(page, 0xfebd4010, 4, 0x12345678);
	assert_int_equal(hw[0x10], 0x78);
	assert_int_equal(hw[0x13], 0x12);
	assert_int_equal(hw[0x14], 0x5a);
	guest_write(page, 0xfebd47f8, 8, 0x1122334455667788ull);
	assert_int_equal(guest_read(page, 0xfebd47f8, 8), 0x1122334455667788ull);
	assert_int_equal(guest_read(page, 0xfebd47ff, 1), 0x11);
	assert_int_equal(guest_read(page, 0xfebd4902, 2), 0x5a5a); /* between the two */
	/* The concealed BARs: nothing there, writes lost. */
	assert_int_equal(guest_read(page, 0xfebd4800, 4), 0xffffffff);
	assert_int_equal(guest_read(page, 0xfebd48ff, 1), 0xff);
	assert_int_equal(guest_read(page, 0xfebd4ffc, 4), 0xffffffff);
	guest_write(page, 0xfebd4800, 4, 0);
	guest_write(page, 0xfebd4c40, 2, 0);
	assert_int_equal(hw[0x800], 0x5a);
	assert_int_equal(hw[0xc40], 0x5a);
	/* Across an edge: all of it hidden. */
	assert_int_equal(guest_read(page, 0xfebd47fc, 8), ~0ull);
	guest_write(page, 0xfebd48fe, 4, 0);
	assert_int_equal(hw[0x900], 0x5a);
	assert_int_equal(hw[0x8ff], 0x5a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_conceals_function, reset),
		cmocka_unit_test_setup(test_one_of_two_matches_fails, reset),
		cmocka_unit_test_setup(test_legacy_decoders_refused, reset),
		cmocka_unit_test_setup(test_rom_turned_off, reset),
		cmocka_unit_test_setup(test_function_0_with_siblings, reset),
		cmocka_unit_test_setup(test_small_bars_share_a_page, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
