/* nomsi=BB:DD.F[,...] or nomsi=VVVV:DDDD: the guest does not see these
 * functions' MSI and MSI-X capabilities (the list is relinked around them
 * and their headers read as zero), so its drivers fall back to the legacy
 * INTx interrupt, which lamina leaves alone. For a device whose message
 * interrupts a mediator must not share with the guest, or that are
 * broken. MSI and MSI-X left enabled by the firmware are turned off. An
 * entry that matches no function stops the guest from starting, as with
 * every driver that names functions. */
#include <core/log.h>
#include <core/options.h>
#include <core/pci.h>
#include <core/pci_rules.h>

#define CAP_MSI 0x05
#define CAP_MSIX 0x11
#define MSI_CTRL_ENABLE 0x0001u   /* message control, capability + 2 */
#define MSIX_CTRL_ENABLE 0x8000u

static struct pci_select sel = { .option = "nomsi", .verb = "stripped of MSI" };
OPTION_FAIL_CLOSED(nomsi, "nomsi", PCI_SELECT_FORM, pci_select_parse, &sel,
		   "PCI functions whose MSI/MSI-X the guest does not see (INTx only)");

static void message_interrupts_off(const struct pci_func *f, const struct pci_cap *c)
{
	u16 enable = c->id == CAP_MSI ? MSI_CTRL_ENABLE : MSIX_CTRL_ENABLE;
	u16 ctrl = (u16)pci_func_read(f, c->offset + 2, 2);

	if (ctrl & enable)
		pci_func_write(f, c->offset + 2, 2, ctrl & ~enable);
}

static int nomsi_attach(struct pci_func *f)
{
	u16 prev = 0; /* the last capability the guest still sees; 0: the list head */
	unsigned int hidden = 0;

	for (unsigned int i = 0; i < f->ncaps; i++) {
		const struct pci_cap *c = &f->cap[i];
		if (c->extended)
			continue;
		if (c->id != CAP_MSI && c->id != CAP_MSIX) {
			prev = c->offset;
			continue;
		}
		message_interrupts_off(f, c);
		u8 next = (u8)pci_func_read(f, c->offset + 1, 1);
		if (pci_rules_hide_cap(&f->rules, prev, c->offset, next))
			return -1;
		hidden++;
	}
	if (pci_trap_config(f))
		return -1;
	log_console(LOG_INFO, "pci %02x:%02x.%x: %u MSI/MSI-X capabilities hidden from the guest",
		 f->bus, f->dev, f->fn, hidden);
	return 0;
}

PCI_DRIVER(nomsi) = {
	.name = "nomsi",
	.select = &sel,
	.attach = nomsi_attach,
};
