/* What devices and firmware report about PCI, checked before lamina
 * relies on it. No hardware access here, so host unit tests run the
 * checks (core/pci/pci_checks.c, tests/unit/test_pci_checks.c). */
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

#endif
