/* memmap: what answers at an address stays as the firmware set it. The
 * chipset decides where DRAM answers, and on Intel's 3- and 4-series
 * memory controller hubs (QEMU's q35 is the 82G33) the guest could change
 * that from configuration space: turn TSEG on (ESMRAMC), which makes the
 * top of RAM below 4 GiB (where lamina lives) answer only in SMM, or move
 * TOLUD, TSEG's base, the stolen graphics memory or the remap window over
 * it; and the ICH9/ICH10 LPC bridge's RCBA lays 16 KiB of chipset
 * registers over any address (QEMU puts them above RAM). lamina's next
 * access to its own memory would miss it: the guest could take lamina
 * down. So, on every machine with such a chipset and whatever else is
 * mediated, these registers are read-only to the guest (a refused write
 * is logged like any other); reads are the hardware's. The PAM registers
 * stay writable: they map only 0xc0000-0xfffff, where lamina is not.
 * Being mediated, the functions also keep PCIEXBAR in place
 * (core/pci/pci_ecam_guard.c): the guest cannot reach these registers
 * past the rules through an ECAM window moved elsewhere.
 *
 * Other host bridges: the 440FX and 440BX (QEMU's and Bochs's "pc") have
 * no TSEG, their SMRAM covers only 0xa0000-0xbffff; later Intel bridges
 * lay these registers out elsewhere, with lock bits the firmware sets
 * (not handled: a note says so at boot). */
#include <core/log.h>
#include <core/pci.h>
#include <core/pci_rules.h>

/* 3 series (Q35, G33/G31/P35/P31 = QEMU's q35, Q33, X38/X48, 3200) and 4
 * series (G45/G43, Q45/Q43, G41, B43): one register map; only QEMU's
 * 0x29c0 is tested. */
static const u16 mch_3_4_series[] = {
	0x29b0, 0x29c0, 0x29d0, 0x29e0, 0x29f0, 0x2e00, 0x2e10, 0x2e20, 0x2e30, 0x2e40, 0x2e90,
};

/* Intel host bridges without TSEG, whose SMRAM is only 0xa0000-0xbffff,
 * for the note: the 440FX and 440BX (QEMU's and Bochs's "pc" machines). */
static const u16 no_dram_map[] = { 0x1237, 0x7190, 0x7192 };

/* ICH9 (QEMU's q35: 0x2918) and ICH10 LPC bridges: RCBA at 0xf0. */
static const u16 ich9_10_lpc[] = {
	0x2912, 0x2914, 0x2916, 0x2917, 0x2918, 0x2919, 0x3a14, 0x3a16, 0x3a18, 0x3a1a,
};

static bool intel_at(const struct pci_func *f, u8 dev, u16 class)
{
	return f->seg == 0 && f->bus == 0 && f->dev == dev && f->fn == 0 &&
	       f->vendor == PCI_VENDOR_INTEL && f->class_rev >> 16 == class;
}

static bool ich_lpc(const struct pci_func *f)
{
	return intel_at(f, 31, PCI_CLASS_BRIDGE_ISA) &&
	       pci_device_listed(f, ich9_10_lpc, ARRAY_SIZE(ich9_10_lpc));
}

static bool memmap_match(const struct pci_func *f)
{
	char name[40];

	if (ich_lpc(f))
		return true;
	if (!intel_at(f, 0, PCI_CLASS_BRIDGE_HOST))
		return false;
	if (pci_device_listed(f, mch_3_4_series, ARRAY_SIZE(mch_3_4_series)))
		return true;
	if (!pci_device_listed(f, no_dram_map, ARRAY_SIZE(no_dram_map)))
		log_console(LOG_INFO, "pci %s: lamina does not know where this host bridge keeps "
			    "its memory map; it relies on the firmware having locked it",
			    pci_name(f, name, sizeof(name)));
	return false;
}

struct ro_reg {
	u16 reg; /* dword */
	u32 ro;  /* its read-only bits */
};

static int memmap_attach(struct pci_func *f)
{
	static const char why[] = "memmap: what answers where stays as the firmware set it";
	static const struct ro_reg lpc[] = {
		{ 0xf0, 0xffffffffu }, /* RCBA */
	};
	static const struct ro_reg mch[] = {
		{ 0x98, 0xffffffffu }, /* REMAPBASE, REMAPLIMIT */
		{ 0x9c, 0x00ffff00u }, /* SMRAM, ESMRAMC (0x9c: QEMU's SMBASE, not DRAM) */
		{ 0xa0, 0xffffffffu }, /* TOM, TOUUD */
		{ 0xa4, 0xffffffffu }, /* GBSM: graphics stolen memory base */
		{ 0xa8, 0xffffffffu }, /* BGSM: GTT stolen memory base */
		{ 0xac, 0xffffffffu }, /* TSEGMB */
		{ 0xb0, 0x0000ffffu }, /* TOLUD */
	};
	bool is_lpc = ich_lpc(f);
	const struct ro_reg *regs = is_lpc ? lpc : mch;
	unsigned int n = is_lpc ? ARRAY_SIZE(lpc) : ARRAY_SIZE(mch);

	for (unsigned int i = 0; i < n; i++) {
		struct pci_rule r = { .reg = regs[i].reg, .name = why, .ro = regs[i].ro };

		if (pci_rule_add(&f->rules, &r))
			return -1;
	}
	return pci_trap_config(f);
}

PCI_DRIVER(memmap) = {
	.name = "memmap",
	.match = memmap_match,
	.attach = memmap_attach,
};
