/* lamina's own configuration-space access: ECAM (memory-mapped, from the
 * ACPI MCFG table) where it exists, else the CF8/CFC ports under a lock
 * (the port pair is one shared register). */
#include <core/io.h>
#include <core/log.h>
#include <core/pci.h>
#include <core/spinlock.h>
#include <x86/acpi.h>
#include <x86/paging.h>

#define MAX_ECAM 4
#define PORT_ADDR 0xcf8
#define PORT_DATA 0xcfc

struct ecam {
	u64 base;
	u16 seg;
	u8 bus_start, bus_end;
	u8 *va;
};

static struct ecam ecams[MAX_ECAM];
static unsigned int necams;
static spinlock_t cf8_lock = SPINLOCK_INIT;

/* MCFG: header, 8 reserved bytes, then 16-byte allocation entries. */
void pci_access_init(void);
void pci_access_init(void)
{
	const struct acpi_header *mcfg = acpi_find("MCFG", 0);

	if (!mcfg)
		return;
	const u8 *p = (const u8 *)mcfg + sizeof(*mcfg) + 8;
	const u8 *end = (const u8 *)mcfg + mcfg->length;
	for (; p + 16 <= end && necams < MAX_ECAM; p += 16) {
		struct ecam *e = &ecams[necams];
		__builtin_memcpy(&e->base, p, 8);
		__builtin_memcpy(&e->seg, p + 8, 2);
		e->bus_start = p[10];
		e->bus_end = p[11];
		if (e->bus_end < e->bus_start)
			continue;
		e->va = io_map(e->base + ((u64)e->bus_start << 20),
			       (u64)(e->bus_end - e->bus_start + 1) << 20);
		log_info("pci: ECAM at %#llx for segment %u, buses %02x-%02x",
			 (unsigned long long)e->base, e->seg, e->bus_start, e->bus_end);
		necams++;
	}
}

static const struct ecam *ecam_for(u16 seg, u8 bus)
{
	for (unsigned int i = 0; i < necams; i++)
		if (ecams[i].seg == seg && bus >= ecams[i].bus_start && bus <= ecams[i].bus_end)
			return &ecams[i];
	return NULL;
}

bool pci_has_ecam(u16 seg, u8 bus)
{
	return ecam_for(seg, bus) != NULL;
}

u64 pci_ecam_address(u16 seg, u8 bus, u8 dev, u8 fn)
{
	const struct ecam *e = ecam_for(seg, bus);

	return e ? e->base + ((u64)bus << 20 | (u64)dev << 15 | (u64)fn << 12) : 0;
}

static volatile void *ecam_reg(const struct ecam *e, u8 bus, u8 dev, u8 fn, u16 off)
{
	return e->va + ((u64)(bus - e->bus_start) << 20 | (u64)dev << 15 | (u64)fn << 12 | off);
}

u32 pci_cf8_access(u32 address, unsigned int lane, unsigned int size, bool write, u32 val)
{
	u32 v = 0;

	spin_lock(&cf8_lock);
	io_port_write(PORT_ADDR, 4, address);
	if (write)
		io_port_write(PORT_DATA + lane, size, val);
	else
		v = io_port_read(PORT_DATA + lane, size);
	spin_unlock(&cf8_lock);
	return v;
}

static u32 cf8_address(u8 bus, u8 dev, u8 fn, u16 off)
{
	return BIT(31) | (u32)bus << 16 | (u32)dev << 11 | (u32)fn << 8 | (off & 0xfc);
}

u32 pci_cfg_read(u16 seg, u8 bus, u8 dev, u8 fn, u16 off, unsigned int size)
{
	const struct ecam *e = ecam_for(seg, bus);

	if (e) {
		volatile void *r = ecam_reg(e, bus, dev, fn, off);
		return size == 1 ? *(volatile u8 *)r : size == 2 ? *(volatile u16 *)r
								 : *(volatile u32 *)r;
	}
	if (seg || off > 0xff)
		return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	return pci_cf8_access(cf8_address(bus, dev, fn, off), off & 3, size, false, 0);
}

void pci_cfg_write(u16 seg, u8 bus, u8 dev, u8 fn, u16 off, unsigned int size, u32 val)
{
	const struct ecam *e = ecam_for(seg, bus);

	if (e) {
		volatile void *r = ecam_reg(e, bus, dev, fn, off);
		if (size == 1)
			*(volatile u8 *)r = (u8)val;
		else if (size == 2)
			*(volatile u16 *)r = (u16)val;
		else
			*(volatile u32 *)r = val;
		return;
	}
	if (seg || off > 0xff)
		return;
	pci_cf8_access(cf8_address(bus, dev, fn, off), off & 3, size, true, val);
}

u32 pci_func_read(const struct pci_func *f, u16 off, unsigned int size)
{
	return pci_cfg_read(f->seg, f->bus, f->dev, f->fn, off, size);
}

void pci_func_write(const struct pci_func *f, u16 off, unsigned int size, u32 val)
{
	pci_cfg_write(f->seg, f->bus, f->dev, f->fn, off, size, val);
}
