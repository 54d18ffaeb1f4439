/* Lists of PCI functions named on the command line, as "BB:DD.F" (hex bus,
 * device 00-1f, function 0-7) or "VVVV:DDDD" (vendor:device), separated by
 * commas. Drivers that protect something use them with fail-closed
 * options: a malformed list, or an entry that matched nothing, stops the
 * guest from starting. */
#include <core/format.h>
#include <core/log.h>
#include <core/options.h>
#include <core/pci.h>
#include <core/string.h>

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

static int entry_len(const char *s)
{
	const char *comma = strchr(s, ',');

	return comma ? (int)(comma - s) : (int)strlen(s);
}

/* One entry, ending at ',' or NUL. */
static int parse_entry(const char *s, const char **end, struct pci_select_entry *e)
{
	const char *p = s;
	u32 a, b, c;

	if (!hex(&p, 4, &a) && *p == ':' && (p++, !hex(&p, 4, &b)) && (!*p || *p == ',')) {
		*e = (struct pci_select_entry){ .by_id = true, .vendor = (u16)a, .device = (u16)b };
		*end = p;
		return 0;
	}
	p = s;
	if (hex(&p, 2, &a) || *p++ != ':' || hex(&p, 2, &b) || *p++ != '.' ||
	    hex(&p, 1, &c) || (*p && *p != ',')) {
		option_error("entry '%.*s' is neither BB:DD.F nor VVVV:DDDD (hex digits)",
			     entry_len(s), s);
		return -1;
	}
	if (b > 0x1f || c > 7) {
		option_error("entry '%.*s': device is 00-1f, function 0-7", entry_len(s), s);
		return -1;
	}
	*e = (struct pci_select_entry){ .bus = (u8)a, .dev = (u8)b, .fn = (u8)c };
	*end = p;
	return 0;
}

/* The same option given again adds to its list (conceal=01:00.0
 * conceal=02:00.0 conceals both): a protecting option never loses an
 * entry silently. A list that would grow past PCI_SELECT_MAX is refused
 * whole, and the list stays as it was. */
int pci_select_parse(const char *v, void *target)
{
	struct pci_select *sel = target;
	struct pci_select_entry e[PCI_SELECT_MAX];
	unsigned int n = 0;

	for (const char *p = v;; p++) {
		if (sel->n + n == PCI_SELECT_MAX) {
			option_error("more than %u entries%s", PCI_SELECT_MAX,
				     sel->n ? " with the earlier ones" : "");
			return -1;
		}
		if (parse_entry(p, &p, &e[n++]))
			return -1;
		if (!*p)
			break;
	}
	memcpy(&sel->e[sel->n], e, n * sizeof(*e));
	sel->n += n;
	return 0;
}

static bool names(const struct pci_select_entry *e, const struct pci_func *f)
{
	return e->by_id ? e->vendor == f->vendor && e->device == f->device
			: f->seg == 0 && e->bus == f->bus && e->dev == f->dev && e->fn == f->fn;
}

bool pci_select_names(const struct pci_select *sel, const struct pci_func *f)
{
	for (unsigned int i = 0; i < sel->n; i++)
		if (names(&sel->e[i], f))
			return true;
	return false;
}

void pci_select_result(struct pci_select *sel, const struct pci_func *f, bool attached)
{
	for (unsigned int i = 0; i < sel->n; i++) {
		struct pci_select_entry *e = &sel->e[i];
		if (!names(e, f))
			continue;
		e->attached |= attached;
		e->failed |= !attached;
	}
}

/* "8086:10d3" or "at 01:00.0", for messages. */
static const char *entry_name(const struct pci_select_entry *e, char *buf, size_t size)
{
	if (e->by_id)
		format(buf, size, "%04x:%04x", e->vendor, e->device);
	else
		format(buf, size, "at %02x:%02x.%x", e->bus, e->dev, e->fn);
	return buf;
}

/* An entry is done when the driver attached to every function it names,
 * and it names at least one. */
int pci_select_check(const struct pci_select *sel)
{
	int r = 0;
	char name[24];

	for (unsigned int i = 0; i < sel->n; i++) {
		const struct pci_select_entry *e = &sel->e[i];
		if (e->attached && !e->failed)
			continue;
		if (e->failed)
			log_console(LOG_ERROR, "%s=: a PCI function %s could not be %s (see above); "
				    "refusing to start the guest", sel->option,
				    entry_name(e, name, sizeof(name)), sel->verb);
		else
			log_console(LOG_ERROR, "%s=: no PCI function %s was %s; refusing to start the "
				    "guest", sel->option, entry_name(e, name, sizeof(name)), sel->verb);
		r = -1;
	}
	return r;
}
