/* PCI enumeration at boot, before the guest runs: from bus 0 through every
 * bridge (then any bus of the ECAM range not reached, for extra root
 * buses), each function's BARs sized, its capabilities listed. */
#include <core/format.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/pci.h>
#include <core/pci_checks.h>

static struct pci_func *funcs, **funcs_tail = &funcs;
static bool bus_seen[256];

struct pci_func *pci_first(void)
{
	return funcs;
}

struct pci_func *pci_find(u16 seg, u8 bus, u8 dev, u8 fn)
{
	for (struct pci_func *f = funcs; f; f = f->next)
		if (f->seg == seg && f->bus == bus && f->dev == dev && f->fn == fn)
			return f;
	return NULL;
}

const char *pci_name(const struct pci_func *f, char *buf, size_t size)
{
	format(buf, size, "%02x:%02x.%x (%04x:%04x)", f->bus, f->dev, f->fn, f->vendor,
	       f->device);
	return buf;
}

/* Write all-ones to a BAR register and return what sticks; the original
 * value goes back. */
static u32 probe_bar_reg(const struct pci_func *f, u16 reg, u32 orig)
{
	pci_func_write(f, reg, 4, 0xffffffffu);
	u32 mask = pci_func_read(f, reg, 4);
	pci_func_write(f, reg, 4, orig);
	return mask;
}

/* Size one BAR the usual way (all-ones, read back, restore). Returns the
 * number of BAR registers used. */
static unsigned int size_bar(struct pci_func *f, unsigned int i)
{
	u16 reg = PCI_BAR0 + 4 * i;
	u32 orig = pci_func_read(f, reg, 4);
	u64 mask = probe_bar_reg(f, reg, orig);
	struct pci_bar *b = &f->bar[i];
	unsigned int used = 1;

	if (mask == 0xffffffffu)
		return 1; /* no bit reads 0, not even a type bit: not working */
	if (orig & 1) {
		b->kind = PCI_BAR_IO;
		b->base = orig & ~3u;
	} else {
		b->kind = PCI_BAR_MEM32;
		b->prefetch = orig & 8;
		b->base = orig & ~0xfu;
		if (((orig >> 1) & 3) == 2 && i + 1 < f->nbars) {
			u32 hi = pci_func_read(f, reg + 4, 4);
			mask |= (u64)probe_bar_reg(f, reg + 4, hi) << 32;
			b->base |= (u64)hi << 32;
			b->kind = PCI_BAR_MEM64;
			used = 2;
		}
	}
	b->size = pci_bar_size(mask, b->kind == PCI_BAR_IO);
	if (!b->size)
		*b = (struct pci_bar){ .kind = PCI_BAR_NONE }; /* not implemented */
	return used;
}

/* Decoding is off while a BAR holds all-ones, or the device would answer
 * wherever that lands. Not for host bridges: some chipsets lose access to
 * their own registers then (Linux keeps them decoding: mmio_always_on).
 * Their BARs are sized with decoding left on, as Linux does, rather than
 * left unsized: every BAR stays known, for a driver that hides them all. */
static bool keeps_decoding(const struct pci_func *f)
{
	return f->class_rev >> 16 == PCI_CLASS_BRIDGE_HOST;
}

static void size_bars(struct pci_func *f)
{
	u16 cmd = (u16)pci_func_read(f, PCI_COMMAND, 2);
	bool keep = keeps_decoding(f);

	if (!keep)
		pci_func_write(f, PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEM));
	for (unsigned int i = 0; i < f->nbars;)
		i += size_bar(f, i);
	if (!keep)
		pci_func_write(f, PCI_COMMAND, 2, cmd);
}

static void add_cap(struct pci_func *f, u16 off, u16 id, bool ext)
{
	f->cap[f->ncaps++] = (struct pci_cap){ off, id, ext };
}

/* Both walks are bounded (a looping list in broken hardware stops), and
 * f->cap has room for all they visit: none is left out, for a driver that
 * hides some (nomsi) must see every one. */
static void list_caps(struct pci_func *f)
{
	if (pci_func_read(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) {
		u16 off = pci_func_read(f, PCI_CAP_PTR, 1) & 0xfc;
		for (int n = 0; off >= 0x40 && n < PCI_MAX_STD_CAPS; n++) {
			u16 hdr = (u16)pci_func_read(f, off, 2);
			add_cap(f, off, hdr & 0xff, false);
			off = (hdr >> 8) & 0xfc;
		}
	}
	if (!pci_has_ecam(f->seg, f->bus))
		return;
	u16 off = PCI_EXT_CAP_START;
	for (int n = 0; off >= PCI_EXT_CAP_START && n < PCI_MAX_EXT_CAPS; n++) {
		u32 hdr = pci_func_read(f, off, 4);
		if (!hdr || hdr == 0xffffffffu)
			break;
		add_cap(f, off, hdr & 0xffff, true);
		off = (hdr >> 20) & 0xffc;
	}
}

static void report(const struct pci_func *f)
{
	char name[40], line[256];
	int n = format(line, sizeof(line), "pci %s class %06x", pci_name(f, name, sizeof(name)),
		       f->class_rev >> 8);
	static const char *const kinds[] = { "", "io", "mem32", "mem64" };

	for (unsigned int i = 0; i < f->nbars && n < (int)sizeof(line); i++)
		if (f->bar[i].kind != PCI_BAR_NONE)
			n += format(line + n, sizeof(line) - n, " bar%u %s %#llx+%#llx", i,
				    kinds[f->bar[i].kind], (unsigned long long)f->bar[i].base,
				    (unsigned long long)f->bar[i].size);
	if (f->ncaps && n < (int)sizeof(line))
		n += format(line + n, sizeof(line) - n, " caps");
	for (unsigned int i = 0; i < f->ncaps && n < (int)sizeof(line); i++)
		n += format(line + n, sizeof(line) - n, " %s%02x", f->cap[i].extended ? "x" : "",
			    f->cap[i].id);
	/* The guest enumerates what it may see itself; concealed functions are
	 * not for it to read about in lamina's log. */
	log_console(LOG_INFO, "%s", line);
}

static void scan_bus(u16 seg, u8 bus);

static void add_function(u16 seg, u8 bus, u8 dev, u8 fn, u32 id)
{
	struct pci_func *f = kzalloc(sizeof(*f));

	if (!f) {
		/* Console-only like every line naming a function: it may
		 * be one concealed from the guest. */
		log_console(LOG_ERROR, "pci: out of memory; %02x:%02x.%x ignored", bus, dev, fn);
		return;
	}
	*f = (struct pci_func){ .seg = seg, .bus = bus, .dev = dev, .fn = fn,
				.vendor = id & 0xffff, .device = id >> 16 };
	f->class_rev = pci_func_read(f, PCI_CLASS_REV, 4);
	f->header_type = pci_func_read(f, PCI_HEADER_TYPE, 1);
	f->nbars = (f->header_type & 0x7f) == 0 ? 6 : (f->header_type & 0x7f) == 1 ? 2 : 0;
	size_bars(f);
	list_caps(f);
	*funcs_tail = f;
	funcs_tail = &f->next;
	report(f);
	if ((f->header_type & 0x7f) == 1) {
		f->secondary_bus = pci_func_read(f, PCI_PRIMARY_BUS + 1, 1);
		if (f->secondary_bus > bus)
			scan_bus(seg, f->secondary_bus);
	}
}

/* Recursion follows bridges; depth is bounded by the 256 bus numbers,
 * each scanned once. */
static void scan_bus(u16 seg, u8 bus)
{
	if (bus_seen[bus])
		return;
	bus_seen[bus] = true;
	for (u8 dev = 0; dev < 32; dev++) {
		for (u8 fn = 0; fn < 8; fn++) {
			u32 id = pci_cfg_read(seg, bus, dev, fn, PCI_VENDOR_ID, 4);
			if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0) {
				if (fn == 0)
					break;
				continue;
			}
			add_function(seg, bus, dev, fn, id);
			if (fn == 0 && !(pci_cfg_read(seg, bus, dev, 0, PCI_HEADER_TYPE, 1) & 0x80))
				break; /* single-function device */
		}
	}
}

void pci_enumerate(void);
void pci_enumerate(void)
{
	scan_bus(0, 0);
	for (unsigned int bus = 1; bus < 256; bus++)
		if (!bus_seen[bus] && pci_has_ecam(0, (u8)bus) &&
		    (pci_cfg_read(0, (u8)bus, 0, 0, PCI_VENDOR_ID, 2) & 0xffff) != 0xffff)
			scan_bus(0, (u8)bus);
}

/* A bridge's window as base and limit registers give it (both in 1 MiB
 * units, the limit inclusive): the end, or 0 when it is off (base above
 * limit). */
static u64 window_end(u64 base, u64 limit)
{
	return base <= limit ? limit + MiB : 0;
}

/* Where a bridge forwards memory to its secondary side: the 32-bit
 * memory window and the prefetchable one (64-bit where its type says). */
static u64 bridge_windows_end(const struct pci_func *f)
{
	u32 mem = pci_func_read(f, PCI_MEMORY_WINDOW, 4);
	u32 pref = pci_func_read(f, PCI_PREF_WINDOW, 4);
	u64 pbase = (u64)(pref & 0xfff0) << 16, plimit = (u64)(pref >> 20) << 20;

	if ((pref & 0xf) == 1) { /* 64-bit */
		pbase |= (u64)pci_func_read(f, PCI_PREF_BASE_UPPER, 4) << 32;
		plimit |= (u64)pci_func_read(f, PCI_PREF_LIMIT_UPPER, 4) << 32;
	}
	return MAX(window_end((u64)(mem & 0xfff0) << 16, (u64)(mem >> 20) << 20),
		   window_end(pbase, plimit));
}

u64 pci_decoded_end(void)
{
	u64 end = pci_ecam_end();

	for (const struct pci_func *f = funcs; f; f = f->next) {
		for (unsigned int i = 0; i < f->nbars; i++)
			if (f->bar[i].kind == PCI_BAR_MEM32 || f->bar[i].kind == PCI_BAR_MEM64)
				end = MAX(end, f->bar[i].base + f->bar[i].size);
		if ((f->header_type & 0x7f) == 1)
			end = MAX(end, bridge_windows_end(f));
	}
	return end;
}
