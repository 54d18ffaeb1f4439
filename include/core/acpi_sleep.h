/* ACPI sleep states that take the CPUs' state (S2, S3). Firmware resumes
 * from them at the OS's waking vector with virtualization off: lamina
 * enters them itself and wakes into its own code (core/suspend.c), or,
 * where it cannot, hides them from the guest's AML and refuses a sleep
 * into them at the sleep control registers (core/acpi_sleep.c). */
#ifndef CORE_ACPI_SLEEP_H
#define CORE_ACPI_SLEEP_H

#include <core/types.h>

/* A \_Sx package found in AML: its SLP_TYPa and SLP_TYPb values and the
 * offset of its NameSeg ("_S3_") in the table. */
struct aml_sleep_pkg {
	u8 slp_typ[2];
	size_t name_at;
};

/* Finds the next Name(_Sx_, Package(){a, b, ...}) for state digit
 * (0-5) in aml[from, len), with a and b integer constants below 8.
 * Returns true and fills *pkg; false when there is none. Never reads
 * outside aml[0, len). */
bool aml_find_sleep_pkg(const u8 *aml, size_t len, size_t from, char digit,
			struct aml_sleep_pkg *pkg);

/* At boot, before the guest starts: hide S2 and S3 in the DSDT and SSDTs
 * unless lamina wakes from them, and hook the sleep control registers
 * the FADT names. */
void acpi_sleep_init(void);
/* The real-mode waking vector the guest left in the FACS, or why there is
 * none lamina can wake into. */
const char *acpi_sleep_guest_vector(u32 *vector);
/* lamina's vector in the FACS for one sleep, then the guest's back. */
void acpi_sleep_lend_vector(u32 lamina_vector);
void acpi_sleep_return_vector(void);

#endif
