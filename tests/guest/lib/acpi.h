/* The CPUs the firmware lists in the ACPI MADT. */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <core/types.h>

#define ACPI_MAX_CPUS 64

struct acpi_cpus {
	u32 lapic_addr; /* local APIC MMIO base */
	u32 count;      /* enabled CPUs */
	u32 apic_id[ACPI_MAX_CPUS];
};

/* RSDP (EBDA, then 0xE0000-0xFFFFF) -> XSDT or RSDT -> MADT. False, with
 * a note printed, if any step fails. */
bool acpi_find_cpus(struct acpi_cpus *out);

/* The table with this 4-character signature (header included), or NULL. */
const void *acpi_table(const char *sig);

#endif
