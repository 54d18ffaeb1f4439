/* lamina's own configuration-space access: ECAM (memory-mapped, from the
 * ACPI MCFG table) where it exists, else the CF8/CFC ports under a lock
 * (the port pair is one shared register). */
#include <core/bootinfo.h>
#include <core/format.h>
#include <core/io.h>
#include <core/log.h>
#include <core/pci.h>
#include <core/pci_checks.h>
#include <core/spinlock.h>
#include <core/vcpu.h>
#include <x86/acpi.h>
#include <x86/cpu.h>
#include <x86/paging.h>

#define MAX_ECAM 16
#define PORT_ADDR 0xcf8
#define PORT_DATA 0xcfc
#define MSR_NB_CFG 0xc001001f

struct ecam {
	u64 base;
	u16 seg;
	u8 bus_start, bus_end;
	u8 *va;
};

/* MCFG: header, 8 reserved bytes, then these. */
#define MCFG_ENTRIES (sizeof(struct acpi_header) + 8)

struct mcfg_entry {
	u64 base; /* of bus 0 of the segment */
	u16 seg;
	u8 bus_start, bus_end;
	u32 reserved;
} __packed;
STATIC_ASSERT(sizeof(struct mcfg_entry) == 16, "MCFG allocation entries are 16 bytes");

static struct ecam ecams[MAX_ECAM];
static unsigned int necams;
static spinlock_t cf8_lock = SPINLOCK_INIT;

/* lamina scans segment 0 only: say once per other segment that its
 * devices are left alone (no conceal=, nodma= or nomsi= reaches them). */
static void warn_other_segment(const struct mcfg_entry *all, unsigned int i)
{
	if (!all[i].seg)
		return;
	for (unsigned int j = 0; j < i; j++)
		if (all[j].seg == all[i].seg)
			return;
	log_warn("pci: segment %u (ACPI MCFG) is not enumerated by lamina: its devices "
		 "cannot be mediated", all[i].seg);
}

/* A bad entry is skipped rather than trusted: lamina writes through the
 * window while sizing BARs, and a window over RAM would corrupt it. */
static void add_ecam(const struct mcfg_entry *m)
{
	const char *why = pci_ecam_refusal(m->base, m->bus_start, m->bus_end,
					   &boot_info.fw_map, 1ull << cpu_phys_bits());
	char what[80];

	format(what, sizeof(what), "ECAM at %#llx for segment %u, buses %02x-%02x",
	       (unsigned long long)m->base, m->seg, m->bus_start, m->bus_end);
	if (why) {
		log_err("pci: %s skipped: %s", what, why);
		return;
	}
	if (necams == MAX_ECAM) {
		log_err("pci: %s dropped: lamina keeps %u MCFG entries", what, MAX_ECAM);
		return;
	}
	struct ecam *e = &ecams[necams++];
	*e = (struct ecam){ .base = m->base, .seg = m->seg, .bus_start = m->bus_start,
			    .bus_end = m->bus_end };
	e->va = io_map(e->base + ((u64)e->bus_start << 20),
		       (u64)(e->bus_end - e->bus_start + 1) << 20);
	log_info("pci: %s", what);
}

void pci_access_init(void);
void pci_access_init(void)
{
	const struct acpi_header *mcfg = acpi_find("MCFG", 0);

	if (!mcfg || mcfg->length < MCFG_ENTRIES)
		return;
	const struct mcfg_entry *all = (const void *)((const u8 *)mcfg + MCFG_ENTRIES);
	unsigned int n = (mcfg->length - MCFG_ENTRIES) / sizeof(*all);
	for (unsigned int i = 0; i < n; i++) {
		warn_other_segment(all, i);
		add_ecam(&all[i]);
	}
}

u64 pci_ecam_end(void)
{
	u64 end = 0;

	for (unsigned int i = 0; i < necams; i++)
		end = MAX(end, ecams[i].base + ((u64)ecams[i].bus_end + 1) * MiB);
	return end;
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

/* One ECAM access of 1, 2 or 4 bytes. AMD's northbridges (BKDG for
 * family 10h and later, "MMIO configuration coding requirements") take
 * only a MOV with EAX, AX or AL as the data register, so the compiler
 * does not choose the instruction (for RAM it would be a MOVZX, or a
 * store from any register): Linux's mmio_config_* do the same. Kept out
 * of line so that tests/boot/ecam_registers.t can find their instructions
 * in lamina.elf and check every one. */
static __attribute__((noinline, noipa)) u32 ecam_load(const volatile void *p,
						      unsigned int size)
{
	u32 v;

	if (size == 1)
		__asm__ __volatile__("movb (%1), %%al" : "=a"(v) : "r"(p) : "memory");
	else if (size == 2)
		__asm__ __volatile__("movw (%1), %%ax" : "=a"(v) : "r"(p) : "memory");
	else
		__asm__ __volatile__("movl (%1), %%eax" : "=a"(v) : "r"(p) : "memory");
	/* A narrower MOV leaves the rest of EAX as it was. */
	return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

static __attribute__((noinline, noipa)) void ecam_store(volatile void *p, unsigned int size,
							u32 v)
{
	if (size == 1)
		__asm__ __volatile__("movb %%al, (%0)" : : "r"(p), "a"(v) : "memory");
	else if (size == 2)
		__asm__ __volatile__("movw %%ax, (%0)" : : "r"(p), "a"(v) : "memory");
	else
		__asm__ __volatile__("movl %%eax, (%0)" : : "r"(p), "a"(v) : "memory");
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

/* Register bits 11:8 go to CF8 bits 27:24, for AMD's extended
 * configuration access: used only where pci_cf8_ext_enabled(). */
static u32 cf8_address(u8 bus, u8 dev, u8 fn, u16 off)
{
	return BIT(31) | (u32)(off & 0xf00) << 16 | (u32)bus << 16 | (u32)dev << 11 |
	       (u32)fn << 8 | (off & 0xfc);
}

bool pci_cf8_ext_enabled(void)
{
	bool amd = vendor && vendor->id == LAMINA_VENDOR_AMD_SVM;
	u64 nb_cfg = 0;

	if (amd && rdmsr_safe(MSR_NB_CFG, &nb_cfg))
		nb_cfg = 0; /* #GP: no such MSR, so no extended access */
	return pci_cf8_ext(amd, nb_cfg);
}

/* Without ECAM, registers past 0xff exist only through AMD's extended
 * CF8 access (the guest may have turned it on: NB_CFG is its MSR). */
static bool cf8_reaches(u16 seg, u16 off)
{
	return !seg && (off <= 0xff || pci_cf8_ext_enabled());
}

u32 pci_cfg_read(u16 seg, u8 bus, u8 dev, u8 fn, u16 off, unsigned int size)
{
	const struct ecam *e = ecam_for(seg, bus);

	if (e)
		return ecam_load(ecam_reg(e, bus, dev, fn, off), size);
	if (!cf8_reaches(seg, off))
		return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	return pci_cf8_access(cf8_address(bus, dev, fn, off), off & 3, size, false, 0);
}

void pci_cfg_write(u16 seg, u8 bus, u8 dev, u8 fn, u16 off, unsigned int size, u32 val)
{
	const struct ecam *e = ecam_for(seg, bus);

	if (e)
		return ecam_store(ecam_reg(e, bus, dev, fn, off), size, val);
	if (!cf8_reaches(seg, off))
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
