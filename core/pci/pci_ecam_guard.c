/* ECAM where lamina does not look. lamina traps a mediated function's
 * configuration space on its page of the ECAM window the ACPI MCFG names;
 * but the chipset (Intel's PCIEXBAR) or the CPU (AMD's
 * MMIO_CFG_BASE_ADDR) says where ECAM really is. A guest that moved the
 * window, or a window the MCFG does not describe (or lamina skipped),
 * would reach the function's registers through untrapped pages. So, when
 * any function is mediated: PCIEXBAR becomes read-only (core/msr.c
 * refuses moves of the AMD MSR), its own page in the window is trapped,
 * and a window that already disagrees with lamina's stops the guest from
 * starting. */
#include <core/format.h>
#include <core/log.h>
#include <core/pci.h>
#include <core/pci_checks.h>
#include <core/vcpu.h>
#include <x86/cpu.h>

#define PCIEXBAR 0x60 /* 64 bits, in the Intel host bridge at 00:00.0 */
#define MSR_MMIO_CFG_BASE 0xc0010058

/* Intel host bridges from before PCI Express hold DRAM row boundaries at
 * 0x60, not PCIEXBAR: the 440FX and 440BX (QEMU's and Bochs's "pc"
 * machines) and the 875P (Bochs). */
static const u16 no_pciexbar[] = { 0x1237, 0x7190, 0x7192, 0x2578 };

static struct pci_func *pciexbar_bridge(void)
{
	struct pci_func *f = pci_find(0, 0, 0, 0);

	if (!f || f->vendor != PCI_VENDOR_INTEL || f->class_rev >> 16 != PCI_CLASS_BRIDGE_HOST ||
	    pci_device_listed(f, no_pciexbar, ARRAY_SIZE(no_pciexbar)))
		return NULL;
	return f;
}

static bool any_mediated(void)
{
	for (const struct pci_func *f = pci_first(); f; f = f->next)
		if (f->driver)
			return true;
	return false;
}

/* The guest may not move the window: a write that would change any bit of
 * PCIEXBAR is refused (and reported by the rule engine). */
static int lock_pciexbar(struct pci_func *hb)
{
	static const char why[] = "PCIEXBAR: ECAM stays where lamina traps it";
	struct pci_rule lo = { .reg = PCIEXBAR, .name = why, .ro = 0xffffffffu };
	struct pci_rule hi = { .reg = PCIEXBAR + 4, .name = why, .ro = 0xffffffffu };

	char name[40];

	if (!pci_rule_add(&hb->rules, &lo) && !pci_rule_add(&hb->rules, &hi) &&
	    !pci_trap_config(hb))
		return 0;
	log_console(LOG_ERROR, "pci %s: cannot make PCIEXBAR read-only; refusing to start the "
		    "guest", pci_name(hb, name, sizeof(name)));
	return -1;
}

/* Whether lamina has ECAM for f's bus (*has), and the address of bus 0 there. */
static u64 ecam_base(const struct pci_func *f, bool *has)
{
	*has = pci_has_ecam(f->seg, f->bus);
	return *has ? pci_ecam_address(f->seg, f->bus, 0, 0) - ((u64)f->bus << 20) : 0;
}

/* Why f is reachable through the window where lamina does not trap it. */
static void refuse(const struct pci_func *f, const char *why, const char *source,
		   const struct pci_ecam_window *w, bool has, u64 base)
{
	char name[40], mcfg[24];

	format(mcfg, sizeof(mcfg), has ? "%#llx" : "none", (unsigned long long)base);
	log_console(LOG_ERROR, "pci %s: %s (%s: ECAM at %#llx for buses 00-%02x; MCFG: %s): "
		    "the guest could reach its configuration space there; refusing to start "
		    "the guest", pci_name(f, name, sizeof(name)), why, source,
		    (unsigned long long)w->base, w->buses - 1, mcfg);
}

/* Every mediated function the window reaches must be trapped there. */
static int check_window(const char *source, const struct pci_ecam_window *w)
{
	int r = 0;
	bool has;

	for (const struct pci_func *f = pci_first(); f; f = f->next) {
		if (!f->driver)
			continue;
		u64 base = ecam_base(f, &has);
		const char *why = pci_ecam_window_refusal(w, f->bus, has, base);
		if (why) {
			refuse(f, why, source, w, has, base);
			r = -1;
		}
	}
	return r;
}

/* PCIEXBAR lies in the window it decodes, which always starts at bus 0:
 * on the host bridge's own page at the window's base, where the guest
 * could write it past its read-only rule. lamina traps that page when
 * its MCFG has bus 0 there (pci_trap_config). An MCFG without bus 0 (an
 * entry may start at a later bus, its base still bus 0's; or bus 0's
 * entry was skipped) leaves the page to be trapped here, routed through
 * the same rules as CF8/CFC. lamina itself reaches the bridge through
 * CF8/CFC then, so its registers past 0xff read all-ones on that page;
 * the guest has no reason to use it (its MCFG has no bus 0 either). Bus
 * 0 at another base than the window's fails closed. */
static int guard_bridge_page(struct pci_func *hb, const struct pci_ecam_window *w)
{
	static struct mmio_region page;
	bool has;
	u64 base = ecam_base(hb, &has);
	const char *why = pci_ecam_window_refusal(w, hb->bus, has, base);
	char name[40];

	if (!why)
		return 0;
	if (has) {
		refuse(hb, why, "PCIEXBAR", w, has, base);
		return -1;
	}
	if (!pci_trap_config_page(hb, w->base, &page))
		return 0;
	log_console(LOG_ERROR, "pci %s: cannot trap its ECAM page at %#llx, where PCIEXBAR "
		    "decodes it; refusing to start the guest", pci_name(hb, name, sizeof(name)),
		    (unsigned long long)w->base);
	return -1;
}

/* A register that says something lamina cannot read stops the guest. */
static int unknown(const char *source, u64 v)
{
	log_console(LOG_ERROR, "pci: %s reads %#llx, a window size lamina does not know; cannot "
		    "tell where ECAM is: refusing to start the guest", source, (unsigned long long)v);
	return -1;
}

int pci_guard_ecam(void);
int pci_guard_ecam(void)
{
	struct pci_func *hb = pciexbar_bridge();
	struct pci_ecam_window w;
	int r = 0;
	u64 v;

	if (!any_mediated())
		return 0;
	if (hb) {
		v = pci_func_read(hb, PCIEXBAR, 4) | (u64)pci_func_read(hb, PCIEXBAR + 4, 4) << 32;
		if (pci_pciexbar_decode(v, &w))
			r = unknown("the host bridge's PCIEXBAR", v);
		else /* both, each saying what is wrong */
			r = check_window("PCIEXBAR", &w) | guard_bridge_page(hb, &w);
		if (lock_pciexbar(hb))
			r = -1;
	}
	/* A #GP: no such MSR, so no window there. */
	if (vendor->id == LAMINA_VENDOR_AMD_SVM && !rdmsr_safe(MSR_MMIO_CFG_BASE, &v)) {
		if (pci_amd_mmio_cfg_decode(v, &w) ? unknown("MMIO_CFG_BASE_ADDR (MSR C001_0058)", v)
						   : check_window("MMIO_CFG_BASE_ADDR", &w))
			r = -1;
	}
	return r;
}
