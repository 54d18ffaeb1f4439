/* What devices, firmware and the CPU report about PCI, decoded and
 * checked before lamina relies on it. No hardware access here, so host
 * unit tests run the checks (core/pci/pci_checks.c,
 * tests/unit/test_pci_checks.c). */
#ifndef CORE_PCI_CHECKS_H
#define CORE_PCI_CHECKS_H

#include <core/memmap.h>

/* The size a BAR decodes, from what it reads back after all-ones was
 * written (type bits included; for a 64-bit BAR, the upper register in
 * bits 63:32). 0: the BAR is not implemented. */
u64 pci_bar_size(u64 mask, bool io);

/* Why a BAR's [base, base + size) does not fit below limit (where the
 * nested page tables or the port space end), or NULL when it fits. */
const char *pci_range_refusal(u64 base, u64 size, u64 limit);

/* Why the ECAM window of an MCFG entry (base: the address of bus 0 of its
 * segment) must not be used, or NULL when it may. fw is the firmware's
 * memory map, sanitized; addr_limit where the CPU's physical addresses end. */
const char *pci_ecam_refusal(u64 base, u8 bus_start, u8 bus_end, const struct memmap *fw,
			     u64 addr_limit);

/* The ECAM window the chipset or CPU decodes, whatever the MCFG says. */
struct pci_ecam_window {
	bool enabled;
	u64 base;           /* of bus 0 */
	unsigned int buses; /* it decodes buses 0 to buses - 1 */
};

/* Intel host bridges' PCIEXBAR (00:00.0, registers 0x60-0x67): enable
 * (bit 0), length (2:1: 256, 128 or 64 MiB), base. -1 for the length
 * encoding 3, which lamina does not know (reserved on most chipsets). */
int pci_pciexbar_decode(u64 v, struct pci_ecam_window *w);
/* AMD's MMIO_CFG_BASE_ADDR (MSR C001_0058): enable (bit 0), bus range
 * (5:2: 2^n buses), base (47:20). -1 for a bus range past 8. */
int pci_amd_mmio_cfg_decode(u64 v, struct pci_ecam_window *w);
/* Why a mediated function on bus is reachable through the ECAM window
 * the hardware decodes (hw) where lamina does not trap it, or NULL.
 * has_ecam: lamina uses ECAM for bus (from the MCFG), at ecam_base (the
 * address of bus 0). */
const char *pci_ecam_window_refusal(const struct pci_ecam_window *hw, u8 bus, bool has_ecam,
				    u64 ecam_base);

/* Why a function of this class (class_rev: class << 8 | revision) answers
 * at fixed legacy addresses besides its BARs, which trapping the BARs
 * cannot hide, or NULL: VGA, IDE in compatibility mode, ISA/LPC bridges. */
const char *pci_legacy_decode(u32 class_rev);

/* AMD: with EnableCf8ExtCfg (NB_CFG, MSR C001_001F, bit 46) set, CF8 bits
 * 27:24 select register bits 11:8, so CF8/CFC reach the whole 4 KiB of
 * configuration space; Linux sets it on family 10h and later and uses it
 * where there is no ECAM. amd: the CPU is AMD's; nb_cfg: the MSR, 0 if
 * reading it faulted. Other CPUs ignore those bits. */
bool pci_cf8_ext(bool amd, u64 nb_cfg);
/* The register a configuration access through CFC-CFF (port) reaches
 * with CF8 holding cf8; ext: pci_cf8_ext(). */
u16 pci_cf8_register(u32 cf8, u16 port, bool ext);

#endif
