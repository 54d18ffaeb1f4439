/* The ACPI tables lamina reads: the MADT for the CPUs (and, for device
 * mediation, the MCFG). */
#ifndef X86_ACPI_H
#define X86_ACPI_H

#include <core/types.h>

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision, checksum;
	char oem_id[6], oem_table_id[8];
	u32 oem_revision, creator_id, creator_revision;
} __packed;

/* Find the RSDP and root table; returns a message on failure. */
const char *acpi_init(void);
/* The table at pa (what names it in warnings), or NULL when it is
 * outside RAM and ACPI memory or its length is bad. */
const struct acpi_header *acpi_table_at(u64 pa, const char *what);
/* The n-th table with this signature, or NULL. */
const struct acpi_header *acpi_find(const char sig[4], unsigned int n);
/* The enabled CPUs of the MADT that lamina can take (at most max, APIC
 * IDs it can address, each once). complete is false when there may be
 * others: no MADT, a malformed entry, a CPU left out (each reported). */
struct madt_cpus {
	u32 *ids;
	unsigned int n;
	bool complete;
};
void acpi_madt_cpus(struct madt_cpus *c, unsigned int max);

#endif
