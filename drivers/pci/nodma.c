/* nodma=BB:DD.F[,...] or nodma=VVVV:DDDD: the guest cannot let these
 * functions master the bus (DMA). Bus Master Enable in the command
 * register is turned off at boot and kept read-only; a guest write that
 * would set it is refused and logged. Everything else of the function
 * works. Without an IOMMU this is how lamina keeps a device it does not
 * trust from writing memory (lamina's own included). Fails closed, like
 * every protecting option. */
#include <core/log.h>
#include <core/options.h>
#include <core/pci.h>

/* Status bits that clear when written with 1 (upper half of the dword). */
#define STATUS_RW1C 0xf9000000u

static struct pci_select sel = { .option = "nodma", .verb = "protected" };
OPTION_FAIL_CLOSED(nodma, "nodma", PCI_SELECT_FORM, pci_select_parse, &sel,
		   "PCI functions that may not do DMA (bus mastering stays off)");

static int nodma_attach(struct pci_func *f)
{
	struct pci_rule r = {
		.reg = PCI_COMMAND, .name = "nodma: bus mastering stays off",
		.ro = PCI_COMMAND_MASTER, .rw1c = STATUS_RW1C,
	};
	u16 cmd = (u16)pci_func_read(f, PCI_COMMAND, 2);

	if (cmd & PCI_COMMAND_MASTER)
		pci_func_write(f, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER);
	if (pci_rule_add(&f->rules, &r) || pci_trap_config(f))
		return -1;
	return 0;
}

PCI_DRIVER(nodma) = {
	.name = "nodma",
	.select = &sel,
	.attach = nodma_attach,
};
