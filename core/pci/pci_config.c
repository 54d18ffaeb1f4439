/* The guest's configuration-space accesses. CF8/CFC are always hooked
 * (every width, byte lane and alignment); ECAM is trapped only on the
 * 4 KiB pages of functions a driver mediates, so the others cost nothing.
 * Either way an access to a known function goes through its rules. */
#include <core/format.h>
#include <core/io.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/pci.h>
#include <core/pci_checks.h>
#include <core/spinlock.h>

#define PORT_ADDR 0xcf8
#define PORT_DATA 0xcfc
#define CF8_EXT_REG 0x0f000000u /* AMD: register bits 11:8 */

static u32 guest_cf8; /* the guest's address register (reset value 0) */
static bool ports_hooked;
static spinlock_t rules_lock = SPINLOCK_INIT;
/* Console only, like the refusals: they name devices hidden from the guest. */
static struct log_limit refusals = LOG_LIMIT_CONSOLE("refused PCI configuration writes");

/* A known function's hardware, for its rules. A refused write is
 * formatted here, under the rules lock, and printed once the lock is
 * released: the console is slow, and every CPU's configuration access
 * waits for that lock. */
struct hw_ctx {
	struct pci_func *f;
	char refusal[256];
};

static u32 hw_read(void *arg, u16 off, unsigned int size)
{
	const struct hw_ctx *c = arg;

	return pci_func_read(c->f, off, size);
}

static void hw_write(void *arg, u16 off, unsigned int size, u32 val)
{
	const struct hw_ctx *c = arg;

	pci_func_write(c->f, off, size, val);
}

static void hw_refused(void *arg, const struct pci_rule *r, u16 off, unsigned int size,
		       u32 val, u32 bits)
{
	struct hw_ctx *c = arg;
	char name[40];

	format(c->refusal, sizeof(c->refusal), "pci %s: guest write of %#x to register %#x "
	       "(%u bytes) would change bits %#x; refused by rule '%s' (refusal %llu by this "
	       "rule; reported at 1, 2, 4, 8, ...)", pci_name(c->f, name, sizeof(name)), val, off,
	       size, bits, r->name, (unsigned long long)r->refusals);
}

/* The largest naturally aligned piece (4, 2 or 1 bytes) at off, of at
 * most left bytes: rules see one dword at a time, and ECAM wants aligned
 * accesses, whatever widths and offsets the guest uses. */
static unsigned int piece_at(u16 off, unsigned int left)
{
	if (left >= 4 && !(off & 3))
		return 4;
	if (left >= 2 && !(off & 1))
		return 2;
	return 1;
}

/* Where a guest configuration access goes: a known function's rules, or
 * (f NULL, segment 0) the hardware. */
struct cfg_target {
	struct pci_func *f;
	u8 bus, dev, fn;
};

static u32 piece_access(const struct cfg_target *t, u16 off, unsigned int size, bool write,
			u32 val)
{
	struct hw_ctx c = { .f = t->f };
	struct pci_hw hw = { hw_read, hw_write, hw_refused, &c };
	u32 v = 0;

	if (!t->f) {
		if (write)
			pci_cfg_write(0, t->bus, t->dev, t->fn, off, size, val);
		else
			v = pci_cfg_read(0, t->bus, t->dev, t->fn, off, size);
		return v;
	}
	spin_lock(&rules_lock);
	if (write)
		pci_rules_write(&t->f->rules, &hw, off, size, val);
	else
		v = pci_rules_read(&t->f->rules, &hw, off, size);
	spin_unlock(&rules_lock);
	if (c.refusal[0] && log_limit_pass(&refusals))
		log_console(LOG_WARN, "%s", c.refusal);
	return v;
}

/* A guest access of size bytes at off: from in (write) or into out
 * (read), little-endian, piece by piece. */
static void config_access(const struct cfg_target *t, u16 off, unsigned int size,
			  const void *in, void *out)
{
	for (unsigned int done = 0, n; done < size; done += n) {
		u32 x = 0;

		n = piece_at(off + done, size - done);
		if (in)
			__builtin_memcpy(&x, (const u8 *)in + done, n);
		x = piece_access(t, off + done, n, in != NULL, x);
		if (out)
			__builtin_memcpy((u8 *)out + done, &x, n);
	}
}

/* The data window CFC-CFF while the guest's CF8 holds a configuration
 * address; the hook's edge at CFF is io.c's to split at. */
static u32 data_access(u32 cf8, u16 port, unsigned int size, bool write, u32 val)
{
	struct cfg_target t = { .bus = (cf8 >> 16) & 0xff, .dev = (cf8 >> 11) & 0x1f,
				.fn = (cf8 >> 8) & 7 };
	u16 off = pci_cf8_register(cf8, port, (cf8 & CF8_EXT_REG) && pci_cf8_ext_enabled());
	u32 v = 0;

	t.f = pci_find(0, t.bus, t.dev, t.fn);
	config_access(&t, off, size, write ? &val : NULL, write ? NULL : &v);
	return v;
}

/* CF8-CFF as configuration mechanism #1 defines them. A dword at CF8 is
 * the address register: the guest's own copy, never written to the
 * hardware, where CF8 holds whatever lamina last used (so no guest access
 * may reach CFC-CFF on the hardware with it). CFC-CFF are the window onto
 * the addressed register; with the address's enable bit clear the bridge
 * passes them on as plain I/O, which lamina does with the guest's CF8.
 * Narrower accesses to CF8-CFB (the reset register CF9) are the hardware's. */
static u32 ports_access(u16 port, unsigned int size, bool write, u32 val)
{
	u32 cf8 = __atomic_load_n(&guest_cf8, __ATOMIC_RELAXED), v = 0;

	if (port == PORT_ADDR && size == 4) {
		if (write)
			__atomic_store_n(&guest_cf8, val, __ATOMIC_RELAXED);
		return cf8;
	}
	if (port < PORT_DATA && port + size > PORT_DATA) {
		for (unsigned int i = 0; i < size; i++) /* across CFB/CFC: bytes */
			v |= ports_access(port + i, 1, write, (val >> (8 * i)) & 0xff) << (8 * i);
		return v;
	}
	if (port < PORT_DATA && write)
		io_port_write(port, size, val);
	else if (port < PORT_DATA)
		v = io_port_read(port, size);
	else if (!(cf8 & BIT(31)))
		v = pci_cf8_access(cf8, port & 3, size, write, val);
	else
		v = data_access(cf8, port, size, write, val);
	return v;
}

static u32 ports_read(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size)
{
	return ports_access(port, size, false, 0);
}

static void ports_write(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size,
			u32 val)
{
	ports_access(port, size, true, val);
}

static const struct io_ops port_ops = { ports_read, ports_write };
static struct io_hook port_hook = {
	.base = PORT_ADDR, .count = 8, .name = "PCI configuration ports", .ops = &port_ops,
};

/* ECAM page of a mediated function (an access never leaves the page:
 * mmio.c splits at page edges). */
static void ecam_read(struct vcpu *v, struct mmio_region *r, u64 gpa, void *data,
		      unsigned int size)
{
	struct cfg_target t = { .f = r->arg };

	config_access(&t, gpa & 0xfff, size, NULL, data);
}

static void ecam_write(struct vcpu *v, struct mmio_region *r, u64 gpa, const void *data,
		       unsigned int size)
{
	struct cfg_target t = { .f = r->arg };

	config_access(&t, gpa & 0xfff, size, data, NULL);
}

static const struct mmio_ops ecam_ops = { ecam_read, ecam_write };

int pci_trap_config(struct pci_func *f)
{
	u64 page = pci_ecam_address(f->seg, f->bus, f->dev, f->fn);
	char name[40];

	if (!ports_hooked) {
		log_console(LOG_ERROR, "pci %s: CF8/CFC are not intercepted; cannot mediate it",
			pci_name(f, name, sizeof(name)));
		return -1;
	}
	if (f->trapped)
		return 0; /* another driver trapped it already */
	f->trapped = true;
	if (!page)
		return 0; /* CF8/CFC only: always hooked */
	return pci_trap_config_page(f, page, &f->ecam_region);
}

int pci_trap_config_page(struct pci_func *f, u64 page, struct mmio_region *r)
{
	*r = (struct mmio_region){
		.base = page, .size = PAGE_SIZE, .name = "PCI configuration",
		.ops = &ecam_ops, .arg = f, .trap_reads = true,
	};
	return mmio_register(r);
}

int pci_config_hook_ports(void);
int pci_config_hook_ports(void)
{
	ports_hooked = !io_hook_register(&port_hook);
	return ports_hooked ? 0 : -1;
}
