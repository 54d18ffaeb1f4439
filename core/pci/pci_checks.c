/* Checks of what BARs say, before lamina relies on it
 * (see include/core/pci_checks.h). Pure: host unit tests run them. */
#include <core/pci_checks.h>

/* Type bits at the bottom of a BAR: memory type and prefetchable, or the
 * I/O space indicator and a reserved bit. */
#define BAR_MEM_TYPE_BITS 0xfull
/* x86 ports are 16 bits wide (Linux's IO_SPACE_LIMIT on x86): an I/O BAR
 * can decode nothing above them. */
#define BAR_IO_ADDR_BITS 0xfffcull

/* A BAR's size is its lowest writable address bit, as in Linux's
 * pci_size(): ~mask + 1 goes wrong where upper address bits are hardwired
 * to 0 (a 64-bit BAR decoding 40 bits, a 32-bit BAR reading 0 on top). */
u64 pci_bar_size(u64 mask, bool io)
{
	mask &= io ? BAR_IO_ADDR_BITS : ~BAR_MEM_TYPE_BITS;
	return mask & -mask;
}
