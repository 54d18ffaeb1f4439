/* What devices report about PCI, checked before lamina relies on it. No
 * hardware access here, so host unit tests run the checks
 * (core/pci/pci_checks.c, tests/unit/test_pci_checks.c). */
#ifndef CORE_PCI_CHECKS_H
#define CORE_PCI_CHECKS_H

#include <core/types.h>

/* The size a BAR decodes, from what it reads back after all-ones was
 * written (type bits included; for a 64-bit BAR, the upper register in
 * bits 63:32). 0: the BAR is not implemented. */
u64 pci_bar_size(u64 mask, bool io);

#endif
