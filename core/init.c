/* The order lamina comes up in, once it runs from its home. */
#include <core/bootinfo.h>
#include <core/cpu.h>
#include <core/init.h>
#include <core/log.h>
#include <core/time.h>
#include <x86/acpi.h>
#include <x86/apic.h>
#include <x86/arch_cpu.h>


__noreturn void lamina_main(void)
{
	const char *err;

	idt_init();
	arch_cpu_init(this_cpu());
	tsc_calibrate();
	log_info("TSC runs at %llu kHz", (unsigned long long)tsc_khz());
	err = acpi_init();
	if (err)
		log_err("%s", err);
	apic_init();
	u32 ids[MAX_CPUS];
	unsigned int n = acpi_cpu_apic_ids(ids, MAX_CPUS);
	log_info("%u CPUs in the ACPI MADT; this one has APIC ID %u", n, apic_id());
	halt_forever();
}
