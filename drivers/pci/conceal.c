/* Concealment: conceal=BB:DD.F[,BB:DD.F...] or conceal=VVVV:DDDD hides
 * PCI functions from the guest. Their configuration space reads as
 * all-ones (as if nothing were there) and ignores writes; their BARs are
 * unreachable (memory reads all-ones and drops writes, ports likewise).
 * Nothing else changes. Concealment protects something, so it fails
 * closed: a malformed value, or an entry that matches no function, stops
 * the guest from starting. */
#include <core/format.h>
#include <core/io.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/options.h>
#include <core/pci.h>
#include <core/string.h>

#define MAX_ENTRIES 16

struct conceal_entry {
	bool by_id;           /* VVVV:DDDD, else BB:DD.F */
	u16 vendor, device;
	u8 bus, dev, fn;
	bool matched;
};

static struct conceal_entry entries[MAX_ENTRIES];
static unsigned int nentries;

static int hex(const char **p, unsigned int digits, u32 *out)
{
	u32 v = 0;

	for (unsigned int i = 0; i < digits; i++) {
		char c = (*p)[i];
		unsigned int d = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : 16;
		if (d == 16)
			return -1;
		v = v * 16 + d;
	}
	*p += digits;
	*out = v;
	return 0;
}

/* One entry of exactly "BB:DD.F" or "VVVV:DDDD", ending at ',' or NUL. */
static int parse_entry(const char *s, const char **end, struct conceal_entry *e)
{
	const char *p = s;
	u32 a, b, c;

	if (!hex(&p, 4, &a) && *p == ':' && (p++, !hex(&p, 4, &b)) && (!*p || *p == ',')) {
		*e = (struct conceal_entry){ .by_id = true, .vendor = (u16)a, .device = (u16)b };
		*end = p;
		return 0;
	}
	p = s;
	if (hex(&p, 2, &a) || *p++ != ':' || hex(&p, 2, &b) || *p++ != '.' ||
	    hex(&p, 1, &c) || (*p && *p != ',')) {
		option_error("entry '%.*s' is neither BB:DD.F nor VVVV:DDDD (hex digits)",
			     (int)(strchr(s, ',') ? strchr(s, ',') - s : (long)strlen(s)), s);
		return -1;
	}
	if (b > 0x1f || c > 7) {
		option_error("entry '%.7s': device is 00-1f, function 0-7", s);
		return -1;
	}
	*e = (struct conceal_entry){ .bus = (u8)a, .dev = (u8)b, .fn = (u8)c };
	*end = p;
	return 0;
}

static int parse_conceal(const char *v, void *target)
{
	struct conceal_entry list[MAX_ENTRIES];
	unsigned int n = 0;
	const char *p = v;

	for (;;) {
		if (n == MAX_ENTRIES) {
			option_error("more than %u entries", MAX_ENTRIES);
			return -1;
		}
		if (parse_entry(p, &p, &list[n++]))
			return -1;
		if (!*p)
			break;
		p++; /* ',' */
	}
	memcpy(entries, list, sizeof(list));
	nentries = n;
	return 0;
}
OPTION_FAIL_CLOSED(conceal, "conceal", "BB:DD.F[,BB:DD.F...] or VVVV:DDDD",
		   parse_conceal, NULL, "PCI functions to hide from the guest");

static struct conceal_entry *entry_for(const struct pci_func *f)
{
	for (unsigned int i = 0; i < nentries; i++) {
		struct conceal_entry *e = &entries[i];
		if (e->by_id ? e->vendor == f->vendor && e->device == f->device
			     : f->seg == 0 && e->bus == f->bus && e->dev == f->dev && e->fn == f->fn)
			return e;
	}
	return NULL;
}

/* A concealed BAR reads like nothing is there. */
static void bar_read(struct vcpu *v, struct mmio_region *r, u64 gpa, void *data,
		     unsigned int size)
{
	memset(data, 0xff, size);
}

static void bar_write(struct vcpu *v, struct mmio_region *r, u64 gpa, const void *data,
		      unsigned int size)
{
}

static u32 port_read(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size)
{
	return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static void port_write(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size,
		       u32 val)
{
}

static const struct mmio_ops bar_mmio_ops = { bar_read, bar_write };
static const struct io_ops bar_io_ops = { port_read, port_write };

static int hide_bar(struct pci_func *f, const struct pci_bar *b)
{
	if (b->kind == PCI_BAR_IO) {
		struct io_hook *h = kzalloc(sizeof(*h));
		if (!h)
			return -1;
		*h = (struct io_hook){ .base = (u16)b->base, .count = (u16)b->size,
				       .name = "concealed BAR", .ops = &bar_io_ops };
		return io_hook_register(h);
	}
	struct mmio_region *r = kzalloc(sizeof(*r));
	if (!r)
		return -1;
	/* Traps are page-granular: a BAR smaller than a page takes its page. */
	u64 base = ALIGN_DOWN(b->base, PAGE_SIZE);
	*r = (struct mmio_region){
		.base = base, .size = ALIGN_UP(b->base + b->size, PAGE_SIZE) - base,
		.name = "concealed BAR", .ops = &bar_mmio_ops, .trap_reads = true,
	};
	return mmio_register(r);
}

static bool conceal_match(const struct pci_func *f)
{
	return entry_for(f) != NULL;
}

/* An entry counts as done only when all of this worked (fail closed). */
static int conceal_attach(struct pci_func *f)
{
	f->rules.all_ones = true;
	for (unsigned int i = 0; i < f->nbars; i++)
		if (f->bar[i].kind != PCI_BAR_NONE && f->bar[i].base && hide_bar(f, &f->bar[i]))
			return -1;
	if (pci_trap_config(f))
		return -1;
	entry_for(f)->matched = true;
	return 0;
}

static int conceal_check(void)
{
	int r = 0;

	for (unsigned int i = 0; i < nentries; i++) {
		const struct conceal_entry *e = &entries[i];
		if (e->matched)
			continue;
		if (e->by_id)
			log_err("conceal=: no PCI function %04x:%04x was concealed; "
				"refusing to start the guest", e->vendor, e->device);
		else
			log_err("conceal=: no PCI function at %02x:%02x.%x was concealed; "
				"refusing to start the guest", e->bus, e->dev, e->fn);
		r = -1;
	}
	return r;
}

PCI_DRIVER(conceal) = {
	.name = "conceal",
	.match = conceal_match,
	.attach = conceal_attach,
	.check = conceal_check,
};
