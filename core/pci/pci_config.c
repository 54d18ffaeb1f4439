/* The guest's configuration-space accesses. CF8/CFC are always hooked
 * (every width and byte lane; CF8 writes that are not configuration
 * addresses go to the hardware); ECAM is trapped only on the 4 KiB pages
 * of functions a driver mediates, so the others cost nothing. Either way
 * an access to a known function goes through its rules. */
#include <core/io.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/pci.h>
#include <core/spinlock.h>

#define PORT_ADDR 0xcf8
#define PORT_DATA 0xcfc

static volatile u32 guest_cf8; /* the guest's view of the address register */
static bool ports_hooked;
static spinlock_t rules_lock = SPINLOCK_INIT;

static u32 hw_read(void *arg, u16 off, unsigned int size)
{
	return pci_func_read(arg, off, size);
}

static void hw_write(void *arg, u16 off, unsigned int size, u32 val)
{
	pci_func_write(arg, off, size, val);
}

static void hw_refused(void *arg, const struct pci_rule *r, u16 off, unsigned int size,
		       u32 val, u32 bits)
{
	char name[40];

	log_warn("pci %s: guest write of %#x to register %#x (%u bytes) would change "
		 "bits %#x; refused by rule '%s'", pci_name(arg, name, sizeof(name)), val,
		 off, size, bits, r->name);
}

static u32 func_read(struct pci_func *f, u16 off, unsigned int size)
{
	struct pci_hw hw = { hw_read, hw_write, hw_refused, f };
	u32 v;

	spin_lock(&rules_lock);
	v = pci_rules_read(&f->rules, &hw, off, size);
	spin_unlock(&rules_lock);
	return v;
}

static void func_write(struct pci_func *f, u16 off, unsigned int size, u32 val)
{
	struct pci_hw hw = { hw_read, hw_write, hw_refused, f };

	spin_lock(&rules_lock);
	pci_rules_write(&f->rules, &hw, off, size, val);
	spin_unlock(&rules_lock);
}

/* A configuration access through CF8/CFC by the guest. */
static u32 cfc_access(u16 port, unsigned int size, bool write, u32 val)
{
	u32 a = guest_cf8;
	u8 bus = (a >> 16) & 0xff, dev = (a >> 11) & 0x1f, fn = (a >> 8) & 7;
	u16 off = (a & 0xfc) | (port & 3);
	struct pci_func *f = pci_find(0, bus, dev, fn);

	if (f && write)
		func_write(f, off, size, val);
	else if (f)
		return func_read(f, off, size);
	else if (write)
		pci_cfg_write(0, bus, dev, fn, off, size, val);
	else
		return pci_cfg_read(0, bus, dev, fn, off, size);
	return 0;
}

static u32 ports_read(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size)
{
	if (port == PORT_ADDR && size == 4)
		return guest_cf8;
	if (port >= PORT_DATA && (guest_cf8 & BIT(31)))
		return cfc_access(port, size, false, 0);
	return io_port_read(port, size);
}

static void ports_write(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size,
			u32 val)
{
	if (port == PORT_ADDR && size == 4) {
		guest_cf8 = val;
		if (!(val & BIT(31)))
			io_port_write(port, size, val); /* not a config address */
		return;
	}
	if (port >= PORT_DATA && (guest_cf8 & BIT(31)))
		return (void)cfc_access(port, size, true, val);
	/* Narrow accesses to CF8-CFB (e.g. the reset register CF9) and data
	 * accesses without a config address belong to the hardware. */
	io_port_write(port, size, val);
}

static const struct io_ops port_ops = { ports_read, ports_write };
static struct io_hook port_hook = {
	.base = PORT_ADDR, .count = 8, .name = "PCI configuration ports", .ops = &port_ops,
};

/* ECAM page of a mediated function; accesses wider than a dword split. */
static void ecam_read(struct vcpu *v, struct mmio_region *r, u64 gpa, void *data,
		      unsigned int size)
{
	u16 off = gpa & 0xfff;

	for (unsigned int i = 0; i < size; i += MIN(size, 4u)) {
		u32 x = func_read(r->arg, off + i, MIN(size, 4u));
		__builtin_memcpy((u8 *)data + i, &x, MIN(size, 4u));
	}
}

static void ecam_write(struct vcpu *v, struct mmio_region *r, u64 gpa, const void *data,
		       unsigned int size)
{
	u16 off = gpa & 0xfff;

	for (unsigned int i = 0; i < size; i += MIN(size, 4u)) {
		u32 x = 0;
		__builtin_memcpy(&x, (const u8 *)data + i, MIN(size, 4u));
		func_write(r->arg, off + i, MIN(size, 4u), x);
	}
}

static const struct mmio_ops ecam_ops = { ecam_read, ecam_write };

int pci_trap_config(struct pci_func *f)
{
	u64 page = pci_ecam_address(f->seg, f->bus, f->dev, f->fn);
	char name[40];

	if (!ports_hooked) {
		log_err("pci %s: CF8/CFC are not intercepted; cannot mediate it",
			pci_name(f, name, sizeof(name)));
		return -1;
	}
	if (f->trapped)
		return 0; /* another driver trapped it already */
	f->trapped = true;
	if (!page)
		return 0; /* CF8/CFC only: always hooked */
	f->ecam_region = (struct mmio_region){
		.base = page, .size = PAGE_SIZE, .name = "PCI configuration",
		.ops = &ecam_ops, .arg = f, .trap_reads = true,
	};
	return mmio_register(&f->ecam_region);
}

int pci_config_hook_ports(void);
int pci_config_hook_ports(void)
{
	ports_hooked = !io_hook_register(&port_hook);
	return ports_hooked ? 0 : -1;
}
