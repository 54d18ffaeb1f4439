/* Concealment: conceal=BB:DD.F[,BB:DD.F...] or conceal=VVVV:DDDD hides
 * PCI functions from the guest. Their configuration space reads as
 * all-ones (as if nothing were there) and ignores writes; their BARs are
 * unreachable (memory reads all-ones and drops writes, ports likewise).
 * Nothing else changes. Concealment protects something, so it fails
 * closed: a malformed value, an entry that matches no function, or a
 * function it cannot hide whole stops the guest from starting. */
#include <core/format.h>
#include <core/io.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/nested.h>
#include <core/options.h>
#include <core/pci.h>
#include <core/pci_checks.h>
#include <core/string.h>
#include <x86/paging.h>

static struct pci_select hide = { .option = "conceal", .verb = "concealed" };
OPTION_FAIL_CLOSED(conceal, "conceal", PCI_SELECT_FORM, pci_select_parse, &hide,
		   "PCI functions to hide from the guest");

/* A BAR that cannot be hidden whole fails the attach (fail closed: the
 * guest does not start) rather than leave part of it reachable, or hide
 * other ports or pages: an I/O hook takes 16-bit ports, and memory is
 * trapped in the nested page tables, which end at nested_limit(). */
static bool can_hide(const struct pci_func *f, unsigned int i)
{
	const struct pci_bar *b = &f->bar[i];
	bool io = b->kind == PCI_BAR_IO;
	u64 limit = io ? 0x10000 : nested_limit();
	const char *why = pci_range_refusal(b->base, b->size, limit);
	char name[40];

	if (why)
		log_console(LOG_ERROR, "pci %s: conceal: bar%u at %#llx+%#llx %s (%s end at %#llx); "
			"cannot hide it", pci_name(f, name, sizeof(name)), i,
			(unsigned long long)b->base, (unsigned long long)b->size, why,
			io ? "I/O ports" : "the nested page tables", (unsigned long long)limit);
	return !why;
}

/* A function that also answers at fixed legacy addresses (VGA, IDE in
 * compatibility mode, ISA bridges) would still be found there. Its
 * decoding is not turned off instead: firmware (SMM) may use the device. */
static bool can_conceal(const struct pci_func *f)
{
	const char *why = pci_legacy_decode(f->class_rev);
	char name[40];

	if (why)
		log_console(LOG_ERROR, "pci %s: conceal: class %06x: %s, which lamina cannot hide; "
			    "refusing to conceal it", pci_name(f, name, sizeof(name)),
			    f->class_rev >> 8, why);
	return !why;
}

/* lamina knows the BARs of header types 0 (device) and 1 (PCI bridge)
 * only (pci_enum.c). A CardBus bridge (type 2) keeps its socket and ExCa
 * registers behind a BAR at 0x10 and can answer at legacy ExCa ports as
 * well (its 16-bit legacy-mode base at 0x44, often 0x3e0): concealed, it
 * would still be found there. Refused rather than half hidden. */
static bool known_layout(const struct pci_func *f)
{
	u8 type = f->header_type & 0x7f;
	char name[40];

	if (type <= 1)
		return true;
	log_console(LOG_ERROR, "pci %s: conceal: header type %u%s: lamina does not size its BARs, "
		    "so cannot hide it whole; refusing to conceal it", pci_name(f, name, sizeof(name)),
		    type, type == 2 ? " (a CardBus bridge: socket registers behind a BAR at 0x10, "
		    "legacy ExCa ports)" : ", which lamina does not know");
	return false;
}

/* A page that a concealed BAR smaller than a page shares with whatever
 * else the firmware packed there (another device's small BAR, say). The
 * page is trapped whole: an access that touches a concealed BAR reads
 * all-ones and drops writes; any other goes to the hardware at the
 * guest's width, so the neighbours keep working, at the cost of an exit
 * per access (and only with the instructions lamina's emulator runs).
 * An access across a concealed BAR's edge counts as touching it. */
#define SHARED_MAX 16

struct shared_page {
	struct mmio_region region;
	volatile u8 *hw;                               /* the page, uncached */
	unsigned int n;
	struct { u16 start, end; } hidden[SHARED_MAX]; /* offsets in the page */
	struct shared_page *next;
};

static struct shared_page *shared_pages;

static bool touches_hidden(const struct shared_page *p, u64 gpa, unsigned int size)
{
	u64 start = gpa & (PAGE_SIZE - 1), end = start + size;

	for (unsigned int i = 0; i < p->n; i++)
		if (start < p->hidden[i].end && p->hidden[i].start < end)
			return true;
	return false;
}

static void shared_read(struct vcpu *v, struct mmio_region *r, u64 gpa, void *data,
			unsigned int size)
{
	const struct shared_page *p = container_of(r, struct shared_page, region);
	u64 val = ~0ull;

	if (!touches_hidden(p, gpa, size))
		val = mem_read_sized(p->hw + (gpa & (PAGE_SIZE - 1)), size);
	memcpy(data, &val, size);
}

static void shared_write(struct vcpu *v, struct mmio_region *r, u64 gpa, const void *data,
			 unsigned int size)
{
	const struct shared_page *p = container_of(r, struct shared_page, region);
	u64 val = 0;

	if (touches_hidden(p, gpa, size))
		return;
	memcpy(&val, data, size);
	mem_write_sized(p->hw + (gpa & (PAGE_SIZE - 1)), size, val);
}

static const struct mmio_ops shared_ops = { shared_read, shared_write };

/* The shared page at page, trapped when first asked for. */
static struct shared_page *shared_page(u64 page)
{
	struct shared_page *p;

	for (p = shared_pages; p; p = p->next)
		if (p->region.base == page)
			return p;
	p = kzalloc(sizeof(*p));
	if (!p)
		return NULL;
	p->region = (struct mmio_region){
		.base = page, .size = PAGE_SIZE, .name = "concealed BAR (shared page)",
		.ops = &shared_ops, .trap_reads = true,
	};
	p->hw = io_map(page, PAGE_SIZE);
	if (mmio_register(&p->region))
		return NULL;
	p->next = shared_pages;
	shared_pages = p;
	return p;
}

/* A BAR smaller than a page lies within one (a BAR is aligned to its
 * size: the address bits below it read as 0). */
static int hide_small_bar(const struct pci_func *f, unsigned int i)
{
	const struct pci_bar *b = &f->bar[i];
	struct shared_page *p = shared_page(ALIGN_DOWN(b->base, PAGE_SIZE));
	u16 start = b->base & (PAGE_SIZE - 1);
	char name[40];

	if (!p)
		return -1;
	if (p->n == SHARED_MAX) {
		log_console(LOG_ERROR, "pci %s: conceal: bar%u at %#llx: more than %u concealed BARs "
			    "in its page; cannot hide it", pci_name(f, name, sizeof(name)), i,
			    (unsigned long long)b->base, SHARED_MAX);
		return -1;
	}
	p->hidden[p->n].start = start;
	p->hidden[p->n++].end = (u16)(start + b->size);
	return 0;
}

/* A concealed BAR reads like nothing is there. */
static int hide_bar(struct pci_func *f, unsigned int i)
{
	const struct pci_bar *b = &f->bar[i];

	if (!can_hide(f, i))
		return -1;
	if (b->kind == PCI_BAR_IO) {
		struct io_hook *h = kzalloc(sizeof(*h));
		if (!h)
			return -1;
		*h = (struct io_hook){ .base = (u16)b->base, .count = (u16)b->size,
				       .name = "concealed BAR", .ops = &io_absent_ops };
		return io_hook_register(h);
	}
	/* Traps are page-granular. */
	if (b->size < PAGE_SIZE)
		return hide_small_bar(f, i);
	struct mmio_region *r = kzalloc(sizeof(*r));
	if (!r)
		return -1;
	u64 base = ALIGN_DOWN(b->base, PAGE_SIZE);
	*r = (struct mmio_region){
		.base = base, .size = ALIGN_UP(b->base + b->size, PAGE_SIZE) - base,
		.name = "concealed BAR", .ops = &mmio_absent_ops, .trap_reads = true,
	};
	return mmio_register(r);
}

/* The expansion ROM BAR is not among the BARs lamina sizes and traps: a
 * ROM the firmware left enabled would answer at its address. Its decoding
 * is turned off instead; the guest's configuration writes are dropped, so
 * it stays off. */
static int rom_off(const struct pci_func *f)
{
	/* Header type 0 or 1 (known_layout). */
	u16 reg = (f->header_type & 0x7f) == 0 ? PCI_ROM_ADDRESS : PCI_ROM_ADDRESS_BRIDGE;
	u32 rom = pci_func_read(f, reg, 4);
	char name[40];

	if (!(rom & PCI_ROM_ENABLE))
		return 0;
	pci_name(f, name, sizeof(name));
	pci_func_write(f, reg, 4, rom & ~(u32)PCI_ROM_ENABLE);
	if (pci_func_read(f, reg, 4) & PCI_ROM_ENABLE) {
		log_console(LOG_ERROR, "pci %s: conceal: its expansion ROM at %#x stays enabled; "
			    "cannot hide it", name, rom & ~0x7ffu);
		return -1;
	}
	log_console(LOG_INFO, "pci %s: conceal: expansion ROM at %#x turned off", name,
		    rom & ~0x7ffu);
	return 0;
}

/* An entry counts as done only when all of this worked (fail closed),
 * and the function reads as all-ones only then: one that failed is not
 * half concealed, and says so in pci_select_check. */
static int conceal_attach(struct pci_func *f)
{
	if (!known_layout(f) || !can_conceal(f))
		return -1;
	for (unsigned int i = 0; i < f->nbars; i++)
		if (f->bar[i].kind != PCI_BAR_NONE && f->bar[i].base && hide_bar(f, i))
			return -1;
	if (rom_off(f) || pci_trap_config(f))
		return -1;
	f->rules.all_ones = true;
	return 0;
}

/* ARI (Alternative Routing-ID Interpretation): one device has its bus to
 * itself, its functions numbered 0-255 across lamina's device numbers
 * (ARI function 8 is 01:01.0). Each function's ARI capability names the
 * next function, and the guest finds them by following that chain from
 * function 0 (Linux: next_ari_fn), stopping at one that does not answer. */
#define PCI_EXT_CAP_ARI 0x000e

static bool has_ari(const struct pci_func *f)
{
	for (unsigned int i = 0; f && i < f->ncaps; i++)
		if (f->cap[i].extended && f->cap[i].id == PCI_EXT_CAP_ARI)
			return true;
	return false;
}

/* The function whose ARI capability shows that f is part of an ARI
 * device: f itself, function 0 of its device, or the bus's 00.0 (the ARI
 * device's function 0); NULL when none has one. */
static const struct pci_func *ari_holder(const struct pci_func *f)
{
	const struct pci_func *c[] = { f, pci_find(f->seg, f->bus, f->dev, 0),
				       pci_find(f->seg, f->bus, 0, 0) };

	for (unsigned int i = 0; i < ARRAY_SIZE(c); i++)
		if (has_ari(c[i]))
			return c[i];
	return NULL;
}

static unsigned int devfn(const struct pci_func *f)
{
	return (unsigned int)f->dev << 3 | f->fn;
}

/* Whether concealing f hides s, a visible function, from the guest as
 * well. With ARI, each function after f in the chain may: the chain's
 * function numbers only rise (Linux stops at one that does not), so those
 * are the functions numbered above f on its bus. Without, function 0's
 * siblings: the guest looks for functions 1-7 only when function 0
 * answers (Linux: pci_scan_slot), as most systems do. */
static bool hides(const struct pci_func *f, const struct pci_func *s, bool ari)
{
	if (s == f || s->seg != f->seg || s->bus != f->bus || s->rules.all_ones)
		return false;
	return ari ? devfn(s) > devfn(f) : !f->fn && s->dev == f->dev;
}

/* The functions concealing f hides as well, as "00:02.1 00:02.3" in buf;
 * how many. */
static unsigned int hidden_too(const struct pci_func *f, bool ari, char *buf, size_t size)
{
	unsigned int n = 0;
	size_t len = 0;

	buf[0] = 0;
	for (const struct pci_func *s = pci_first(); s; s = s->next) {
		if (!hides(f, s, ari))
			continue;
		len += format(buf + MIN(len, size), size - MIN(len, size), "%s%02x:%02x.%x",
			      n++ ? " " : "", s->bus, s->dev, s->fn);
	}
	return n;
}

/* Concealing a function must not hide others that were not asked for. */
static int conceal_check(void)
{
	char name[40], holder[40], others[96];
	int r = 0;

	for (const struct pci_func *f = pci_first(); f; f = f->next) {
		if (!f->rules.all_ones)
			continue;
		const struct pci_func *ari = ari_holder(f);
		if (!hidden_too(f, ari != NULL, others, sizeof(others)))
			continue;
		pci_name(f, name, sizeof(name));
		if (ari)
			log_console(LOG_ERROR, "pci %s: conceal: part of a device with ARI (the "
				    "capability on %s): the guest follows its chain of functions and "
				    "stops at a concealed one, so it would not find the functions after "
				    "it (%s) either: conceal them too, or not this one; refusing to "
				    "start the guest", name, pci_name(ari, holder, sizeof(holder)), others);
		else
			log_console(LOG_ERROR, "pci %s: conceal: function 0 of a multi-function "
				    "device; the guest would not look for its other functions (%s) "
				    "either: conceal them too or none; refusing to start the guest",
				    name, others);
		r = -1;
	}
	return r;
}

PCI_DRIVER(conceal) = {
	.name = "conceal",
	.select = &hide,
	.attach = conceal_attach,
	.check = conceal_check,
};
