/* PCI bring-up and the driver registry: drivers drop a descriptor into
 * the lamina_pci_drivers section (PCI_DRIVER()); there is no central list.
 * Every driver that matches a function attaches to it (their rules
 * combine: concealed and kept from DMA, say). */
#include <core/log.h>
#include <core/pci.h>

extern const struct pci_driver __start_lamina_pci_drivers[];
extern const struct pci_driver __stop_lamina_pci_drivers[];

void pci_access_init(void);
void pci_enumerate(void);
int pci_config_hook_ports(void);
int pci_guard_ecam(void);

static void offer(struct pci_func *f)
{
	char name[40];

	for (const struct pci_driver *d = __start_lamina_pci_drivers;
	     d < __stop_lamina_pci_drivers; d++) {
		if (d->select ? !pci_select_names(d->select, f) : !d->match || !d->match(f))
			continue;
		int err = d->attach(f);
		if (d->select) /* done only once all of attach() worked: fail closed */
			pci_select_result(d->select, f, !err);
		if (err) {
			log_console(LOG_ERROR, "pci %s: driver '%s' could not attach", pci_name(f, name, sizeof(name)),
				d->name);
			continue;
		}
		if (!f->driver)
			f->driver = d;
		log_console(LOG_INFO, "pci %s: mediated by '%s'", pci_name(f, name, sizeof(name)), d->name);
	}
}

void pci_discover(void)
{
	pci_access_init();
	pci_enumerate();
}

bool pci_init(void)
{
	bool ok = true;

	pci_config_hook_ports(); /* without it, drivers fail to attach */
	for (struct pci_func *f = pci_first(); f; f = f->next)
		offer(f);
	if (pci_guard_ecam()) /* core/pci/pci_ecam_guard.c */
		ok = false;
	for (const struct pci_driver *d = __start_lamina_pci_drivers;
	     d < __stop_lamina_pci_drivers; d++) {
		if (d->select && pci_select_check(d->select))
			ok = false;
		if (d->check && d->check())
			ok = false;
	}
	return ok;
}
