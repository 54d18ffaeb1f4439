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
 * is logged like any other); reads are the hardware's. So are the PAM
 * registers, which send 0xc0000-0xfffff to DRAM or the ROM: lamina is not
 * there, but the code a CPU runs after a reset or INIT is (F000:E05B),
 * and QEMU keeps PAM and RAM over a reset; with writes sent to DRAM the
 * guest could put its own code there and have it run without lamina
 * (found by a review helper). No OS changes them after boot.
 * Being mediated, the functions also keep PCIEXBAR in place
 * (core/pci/pci_ecam_guard.c): the guest cannot reach these registers
 * past the rules through an ECAM window moved elsewhere.
 *
 * What runs in SMM stays the firmware's too: the 440FX and 440BX (QEMU's
 * and Bochs's "pc") keep SMRAM at 0xa0000-0xbffff behind their SMRAM
 * register (0x72; the 440BX's ESMRAMC at 0x73 adds a TSEG), which
 * firmware closes but need not lock (SeaBIOS and Bochs's BIOS do not;
 * QEMU ignores D_LCK): opened (D_OPEN) or disabled (G_SMRAME), it lets the
 * guest write the SMI handler, which then runs in SMM at the next SMI,
 * outside VMX and EPT on Bochs. Read-only, as on q35.
 *
 * And the ACPI PM registers stay where the FADT says they are, where
 * lamina refuses sleeps into S2/S3 (core/acpi_sleep.c): PMBASE of the
 * ICH9/10 LPC bridge (0x40) and PMBA of the PIIX4's power management
 * function (0x40) are read-only.
 *
 * Other host bridges: later Intel bridges lay these registers out
 * elsewhere, with lock bits the firmware sets (not handled: a note says
 * so at boot). */
#include <core/log.h>
#include <core/pci.h>
#include <core/pci_rules.h>

/* 3 series (Q35, G33/G31/P35/P31 = QEMU's q35, Q33, X38/X48, 3200) and 4
 * series (G45/G43, Q45/Q43, G41, B43): one register map; only QEMU's
 * 0x29c0 is tested. */
static const u16 mch_3_4_series[] = {
	0x29b0, 0x29c0, 0x29d0, 0x29e0, 0x29f0, 0x2e00, 0x2e10, 0x2e20, 0x2e30, 0x2e40, 0x2e90,
};

/* 440FX (QEMU's and Bochs's "pc") and 440BX: SMRAM at 0x72. */
static const u16 i440[] = { 0x1237, 0x7190, 0x7192 };

/* PIIX4's power management function (QEMU's and Bochs's 00:01.3). */
static const u16 piix4_pm[] = { 0x7113 };

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

struct ro_reg {
	u16 reg; /* dword */
	u32 ro;  /* its read-only bits */
};

static const struct ro_reg lpc_regs[] = {
	{ 0x40, 0xffffffffu }, /* PMBASE */
	{ 0xf0, 0xffffffffu }, /* RCBA */
};
static const struct ro_reg mch_regs[] = {
	{ 0x98, 0xffffffffu }, /* REMAPBASE, REMAPLIMIT */
	{ 0x90, 0xffffffffu }, /* PAM0-PAM3 */
	{ 0x94, 0x00ffffffu }, /* PAM4-PAM6 */
	{ 0x9c, 0x00ffff00u }, /* SMRAM, ESMRAMC (0x9c: QEMU's SMBASE, not DRAM) */
	{ 0xa0, 0xffffffffu }, /* TOM, TOUUD */
	{ 0xa4, 0xffffffffu }, /* GBSM: graphics stolen memory base */
	{ 0xa8, 0xffffffffu }, /* BGSM: GTT stolen memory base */
	{ 0xac, 0xffffffffu }, /* TSEGMB */
	{ 0xb0, 0x0000ffffu }, /* TOLUD */
};
static const struct ro_reg i440_regs[] = {
	{ 0x58, 0xffffff00u }, /* PAM0-PAM2 */
	{ 0x5c, 0xffffffffu }, /* PAM3-PAM6 */
	{ 0x70, 0xffff0000u }, /* SMRAM, ESMRAMC (440BX) */
};
static const struct ro_reg piix4_pm_regs[] = {
	{ 0x40, 0xffffffffu }, /* PMBA */
};

/* The registers kept for f, or NULL when it is none of these. */
static const struct ro_reg *kept_regs(const struct pci_func *f, unsigned int *n)
{
	if (ich_lpc(f)) {
		*n = ARRAY_SIZE(lpc_regs);
		return lpc_regs;
	}
	if (f->seg == 0 && f->bus == 0 && f->vendor == PCI_VENDOR_INTEL &&
	    pci_device_listed(f, piix4_pm, ARRAY_SIZE(piix4_pm))) {
		*n = ARRAY_SIZE(piix4_pm_regs);
		return piix4_pm_regs;
	}
	if (!intel_at(f, 0, PCI_CLASS_BRIDGE_HOST))
		return NULL;
	if (pci_device_listed(f, mch_3_4_series, ARRAY_SIZE(mch_3_4_series))) {
		*n = ARRAY_SIZE(mch_regs);
		return mch_regs;
	}
	if (pci_device_listed(f, i440, ARRAY_SIZE(i440))) {
		*n = ARRAY_SIZE(i440_regs);
		return i440_regs;
	}
	return NULL;
}

static bool memmap_match(const struct pci_func *f)
{
	char name[40];
	unsigned int n;

	if (kept_regs(f, &n))
		return true;
	if (intel_at(f, 0, PCI_CLASS_BRIDGE_HOST))
		log_console(LOG_INFO, "pci %s: lamina does not know where this host bridge keeps "
			    "its memory map; it relies on the firmware having locked it",
			    pci_name(f, name, sizeof(name)));
	return false;
}

static int memmap_attach(struct pci_func *f)
{
	static const char why[] = "memmap: what answers where stays as the firmware set it";
	unsigned int n = 0;
	const struct ro_reg *regs = kept_regs(f, &n);

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
