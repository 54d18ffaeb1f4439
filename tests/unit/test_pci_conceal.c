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
#include <x86/cpu.h>
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

int pci_trap_config_page(struct pci_func *f, u64 page, struct mmio_region *r)
{
	*r = (struct mmio_region){ .base = page, .size = PAGE_SIZE, .arg = f };
	return mmio_register(r);
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

struct pci_func *pci_find(u16 seg, u8 bus, u8 dev, u8 fn)
{
	for (unsigned int i = 0; i < nfuncs; i++) {
		struct pci_func *f = &funcs[i].f;
		if (f->seg == seg && f->bus == bus && f->dev == dev && f->fn == fn)
			return f;
	}
	return NULL;
}

/* ECAM as lamina has it from the MCFG (mcfg_base 0: none; the address
 * of bus 0, for buses from mcfg_first_bus on), and the CPU: Intel, or AMD
 * with MMIO_CFG_BASE_ADDR (a #GP when msr_faults). */
static u64 mcfg_base;
static u8 mcfg_first_bus;
static struct vendor_ops cpu = { .id = LAMINA_VENDOR_INTEL_VMX };
const struct vendor_ops *vendor = &cpu;
static u64 mmio_cfg_msr;
static bool msr_faults;

bool pci_has_ecam(u16 seg, u8 bus)
{
	return mcfg_base && !seg && bus >= mcfg_first_bus;
}

u64 pci_ecam_address(u16 seg, u8 bus, u8 dev, u8 fn)
{
	return pci_has_ecam(seg, bus) ? mcfg_base + ((u64)bus << 20 | (u64)dev << 15 | (u64)fn << 12)
				      : 0;
}

int rdmsr_safe(u32 msr, u64 *v)
{
	assert_int_equal(msr, 0xc0010058);
	*v = mmio_cfg_msr;
	return msr_faults ? -1 : 0;
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
	mcfg_base = 0;
	mcfg_first_bus = 0;
	cpu.id = LAMINA_VENDOR_INTEL_VMX;
	mmio_cfg_msr = 0;
	msr_faults = false;
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
	assert_true(options_parse(cmdline, false, option_report, NULL));
	return pci_init();
}

/* Whether a message lamina printed contains s. */
static bool find_msg(const char *s)
{
	for (unsigned int i = 0; i < nmsgs; i++)
		if (strstr(msgs[i], s))
			return true;
	return false;
}

/* The same, showing the messages when it is not there. */
static bool has_msg(const char *s)
{
	if (find_msg(s))
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

/* A CardBus bridge (header type 2) keeps its socket registers behind a
 * BAR at 0x10 that lamina does not size: refused, named, nothing trapped
 * and nothing written; so is a header type lamina does not know. */
static void test_cardbus_refused(void **state)
{
	static const u8 types[] = { 2, 0x82, 3 };

	for (unsigned int i = 0; i < ARRAY_SIZE(types); i++) {
		reset(NULL);
		struct pci_func *f = add_func(0, 0x0c, 0, 0x104c, 0xac56);
		f->class_rev = 0x060700 << 8;
		f->header_type = types[i];
		f->nbars = 0; /* as pci_enum.c leaves it */
		pci_func_write(f, PCI_BAR0, 4, 0xfebf0000);
		assert_false(init_with("conceal=00:0c.0"));
		assert_false(f->rules.all_ones);
		assert_int_equal(nmmio + nports, 0);
		assert_true(has_msg("pci 00:0c.0 (104c:ac56): conceal: header type"));
		assert_true(has_msg(types[i] == 3 ? "header type 3, which lamina does not know"
						  : "header type 2 (a CardBus bridge"));
		assert_true(has_msg("could not be concealed"));
	}
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
	assert_false(find_msg("pci 00:03.0 (8086:10d3): conceal: expansion ROM"));

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

/* With ARI the guest finds a device's functions by following the chain
 * of Next Function Numbers from function 0, stopping at one that does
 * not answer: concealing one hides those after it. Refused, naming them,
 * unless they are concealed too, whether the ARI capability shows on the
 * function, on function 0 of its device, or on the bus's 00.0 (an ARI
 * device's function 8 is 01:01.0). Without ARI, as before. */
static void test_ari_chain(void **state)
{
	static const struct {
		const char *cmdline;
		int ari; /* bit n: 01:00.n has the capability (bit 3: also 01:01.0-1) */
		bool ok;
		const char *holder, *named;
	} cases[] = {
		{ "conceal=01:00.1", 0xf, false, "01:00.1", "01:00.2 01:00.3 01:01.0 01:01.1" },
		{ "conceal=01:00.1", 0x1, false, "01:00.0", "01:00.2 01:00.3 01:01.0 01:01.1" },
		{ "conceal=01:00.1", 0x2, false, "01:00.1", "01:00.2 01:00.3 01:01.0 01:01.1" },
		{ "conceal=01:01.0", 0x1, false, "01:00.0", "01:01.1" },
		{ "conceal=01:01.1", 0x1, true, NULL, NULL },
		{ "conceal=01:00.2,01:01.0,01:01.1", 0xf, false, "01:00.2", "01:00.3" },
		{ "conceal=01:00.2,01:00.3,8086:1572", 0xf, true, NULL, NULL },
		{ "conceal=01:00.0", 0xf, false, "01:00.0",
		  "01:00.1 01:00.2 01:00.3 01:01.0 01:01.1" },
		{ "conceal=01:00.1", 0, true, NULL, NULL },
		{ "conceal=00:00.1", 0xf, true, NULL, NULL }, /* another bus */
	};
	char want[120];

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		reset(NULL);
		add_func(0, 0, 0, 0x8086, 0x29c0);
		add_func(0, 0, 1, 0x8086, 0x10d3);
		/* 01:00.0-3 and 01:01.0-1: ARI functions 0-3, 8 and 9 */
		for (u8 n = 0; n < 6; n++) {
			struct pci_func *f = add_func(1, n >> 2, n & 3, 0x8086, 0x1572);
			if (cases[i].ari & 1 << MIN(n, 3))
				f->cap[f->ncaps++] = (struct pci_cap){ 0x150, 0x000e, true };
		}
		assert_int_equal(init_with(cases[i].cmdline), cases[i].ok);
		if (cases[i].named) {
			snprintf(want, sizeof(want), "conceal: part of a device with ARI (the "
				 "capability on %s (8086:1572))", cases[i].holder);
			assert_true(has_msg(want));
			snprintf(want, sizeof(want), "after it (%s) either", cases[i].named);
			assert_true(has_msg(want));
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

/* ---- ECAM where lamina does not trap (core/pci/pci_ecam_guard.c) ---- */

#define PCIEXBAR 0x60

/* QEMU's q35: the MCH at 00:00.0 with PCIEXBAR, the e1000e to conceal. */
static struct pci_func *q35(u64 pciexbar)
{
	struct pci_func *mch = add_func(0, 0, 0, 0x8086, 0x29c0);

	mch->class_rev = 0x060000 << 8;
	mch->nbars = 0;
	pci_func_write(mch, PCIEXBAR, 4, (u32)pciexbar);
	pci_func_write(mch, PCIEXBAR + 4, 4, (u32)(pciexbar >> 32));
	add_func(0, 2, 0, 0x8086, 0x10d3);
	return mch;
}

/* PCIEXBAR where the MCFG says: the guest starts, and PCIEXBAR is
 * read-only and routed through the rules (both halves). */
static void test_pciexbar_locked(void **state)
{
	struct pci_func *mch = q35(0xb0000001);

	mcfg_base = 0xb0000000;
	assert_true(init_with("conceal=00:02.0"));
	assert_true(mch->trapped);
	assert_int_equal(pci_rule_find(&mch->rules, PCIEXBAR)->ro, 0xffffffff);
	assert_int_equal(pci_rule_find(&mch->rules, PCIEXBAR + 4)->ro, 0xffffffff);
	assert_false(mch->rules.all_ones);
	/* Nothing mediated: nothing to guard, nothing trapped. */
	reset(NULL);
	mch = q35(0xe0000001);
	assert_true(init_with(""));
	assert_false(mch->trapped);
	assert_int_equal(mch->rules.n, 0);
}

/* PCIEXBAR decoding elsewhere than the MCFG, or where lamina has no
 * MCFG at all: the concealed function would be reachable there. */
static void test_pciexbar_disagrees(void **state)
{
	static const struct { u64 pciexbar, mcfg; bool ok; const char *msg; } cases[] = {
		{ 0xe0000001, 0xb0000000, false,
		  "another base than the ACPI MCFG's, where lamina traps it (PCIEXBAR: ECAM at "
		  "0xe0000000 for buses 00-ff; MCFG: 0xb0000000)" },
		{ 0xb0000001, 0, false, "no ECAM window there (ACPI MCFG) to trap it in "
		  "(PCIEXBAR: ECAM at 0xb0000000 for buses 00-ff; MCFG: none)" },
		{ 0xb0000000, 0, true, NULL },          /* not decoding */
		{ 0xe0000000, 0xb0000000, true, NULL }, /* not decoding either */
		{ 0x1f0000000ull | 7, 0xb0000000, false, "a window size lamina does not know" },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		reset(NULL);
		struct pci_func *mch = q35(cases[i].pciexbar);
		mcfg_base = cases[i].mcfg;
		assert_int_equal(init_with("conceal=00:02.0"), cases[i].ok);
		if (cases[i].msg) {
			assert_true(has_msg(cases[i].msg));
			assert_true(has_msg("refusing to start the guest"));
		}
		assert_true(mch->trapped); /* locked all the same */
	}
}

/* The MCFG starts at bus 1 (ACPI allows it; the base is still bus 0's),
 * so lamina has no ECAM for bus 0, but PCIEXBAR always decodes from bus 0:
 * the host bridge's own page at its base would let the guest rewrite
 * PCIEXBAR past its read-only rule. That page is trapped too, routed to
 * the host bridge's rules. Bus 0 in the MCFG at another base than
 * PCIEXBAR's (the mediated function outside the window) fails closed. */
static void test_pciexbar_page_without_mcfg_bus_0(void **state)
{
	struct pci_func *mch = q35(0xb0000001);

	add_func(1, 0, 0, 0x8086, 0x10d3);
	mcfg_base = 0xb0000000;
	mcfg_first_bus = 1;
	assert_true(init_with("conceal=01:00.0"));
	assert_true(mch->trapped);
	unsigned int i = 0;
	while (i < nmmio && mmio[i]->base != 0xb0000000)
		i++;
	assert_true(i < nmmio);
	assert_int_equal(mmio[i]->size, PAGE_SIZE);
	assert_ptr_equal(mmio[i]->arg, mch);

	/* 64 MiB: buses 00-3f at 0xb0000000; the MCFG has bus 0 at 0xc0000000. */
	reset(NULL);
	mch = q35(0xb0000005);
	add_func(0x80, 0, 0, 0x8086, 0x10d3);
	mcfg_base = 0xc0000000;
	assert_false(init_with("conceal=80:00.0"));
	assert_true(has_msg("pci 00:00.0 (8086:29c0): the hardware decodes ECAM at another base"));
	assert_true(has_msg("(PCIEXBAR: ECAM at 0xb0000000 for buses 00-3f; MCFG: 0xc0000000)"));
}

/* A 440FX (QEMU's and Bochs's "pc") keeps DRAM row boundaries at 0x60:
 * no PCIEXBAR to read or lock. */
static void test_i440fx_has_no_pciexbar(void **state)
{
	struct pci_func *hb = q35(0x0101010101010101ull);

	hb->device = 0x1237;
	assert_true(init_with("conceal=00:02.0"));
	assert_false(hb->trapped);
	assert_int_equal(hb->rules.n, 0);
}

/* AMD: MMIO_CFG_BASE_ADDR says where the CPU sends ECAM accesses. */
static void test_amd_mmio_cfg_base(void **state)
{
	static const struct { u64 msr; bool faults; u64 mcfg; bool ok; } cases[] = {
		{ 0xe0000021, false, 0xe0000000, true },
		{ 0xf0000021, false, 0xe0000000, false },
		{ 0xe0000021, false, 0, false },
		{ 0xe0000020, false, 0, true },  /* not enabled */
		{ 0xe0000021, true, 0, true },   /* no such MSR */
		{ 0xe0000025, false, 0xe0000000, false }, /* 512 buses */
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		reset(NULL);
		cpu.id = LAMINA_VENDOR_AMD_SVM;
		mmio_cfg_msr = cases[i].msr;
		msr_faults = cases[i].faults;
		mcfg_base = cases[i].mcfg;
		add_func(0, 2, 0, 0x8086, 0x10d3);
		assert_int_equal(init_with("conceal=00:02.0"), cases[i].ok);
		if (!cases[i].ok)
			assert_true(has_msg("MMIO_CFG_BASE_ADDR"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_conceals_function, reset),
		cmocka_unit_test_setup(test_one_of_two_matches_fails, reset),
		cmocka_unit_test_setup(test_legacy_decoders_refused, reset),
		cmocka_unit_test_setup(test_cardbus_refused, reset),
		cmocka_unit_test_setup(test_rom_turned_off, reset),
		cmocka_unit_test_setup(test_function_0_with_siblings, reset),
		cmocka_unit_test_setup(test_ari_chain, reset),
		cmocka_unit_test_setup(test_small_bars_share_a_page, reset),
		cmocka_unit_test_setup(test_pciexbar_locked, reset),
		cmocka_unit_test_setup(test_pciexbar_disagrees, reset),
		cmocka_unit_test_setup(test_pciexbar_page_without_mcfg_bus_0, reset),
		cmocka_unit_test_setup(test_i440fx_has_no_pciexbar, reset),
		cmocka_unit_test_setup(test_amd_mmio_cfg_base, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
