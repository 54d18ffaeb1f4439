/* The order lamina comes up in, once it runs from its home. */
#include <core/acpi_sleep.h>
#include <core/bootinfo.h>
#include <core/cpu.h>
#include <core/exit_handlers.h>
#include <core/guest_mem.h>
#include <core/init.h>
#include <core/loader.h>
#include <core/mmio.h>
#include <core/log.h>
#include <core/nested.h>
#include <core/options.h>
#include <core/pci.h>
#include <core/panic.h>
#include <core/protect.h>
#include <core/smp.h>
#include <core/string.h>
#include <core/time.h>
#include <core/vcpu.h>
#include <x86/acpi.h>
#include <x86/apic.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>

/* crash=: prove the fatal-error path (registers, call chain, every CPU
 * stopped) works, by failing on purpose once all CPUs are up. */
enum crash_mode { CRASH_NO, CRASH_FAULT, CRASH_PANIC, CRASH_HYPERCALL };
static int opt_crash = CRASH_NO;
static int parse_crash(const char *v, void *target)
{
	static const char *const names[] = { "no", "fault", "panic", "hypercall" };
	int i = option_match(v, names, ARRAY_SIZE(names));

	if (i < 0)
		return -1;
	*(int *)target = i;
	return 0;
}
OPTION(crash, "crash", "no|fault|panic|hypercall", parse_crash, &opt_crash,
       "fail on purpose (after boot, or at a hypercall once the guest runs on "
       "every CPU) to test lamina's fatal-error report");

static __attribute__((noinline)) void crash_on_purpose(void)
{
	if (opt_crash == CRASH_PANIC)
		panic("crash=panic given on the command line");
	if (opt_crash == CRASH_FAULT) {
		log_info("crash=fault: executing UD2 inside lamina");
		__asm__ volatile("ud2");
	}
}

void crash_at_hypercall(void)
{
	if (opt_crash == CRASH_HYPERCALL && smp_all_aps_started()) {
		log_info("crash=hypercall: executing UD2 inside lamina");
		__asm__ volatile("ud2");
	}
}

static const struct vendor_ops *pick_vendor(void)
{
	struct cpuid_regs r = cpuid(0);
	char id[13];

	memcpy(id, &r.ebx, 4);
	memcpy(id + 4, &r.edx, 4);
	memcpy(id + 8, &r.ecx, 4);
	id[12] = 0;
	if (!strcmp(id, "AuthenticAMD") || !strcmp(id, "HygonGenuine"))
		return &svm_ops;
	if (!strcmp(id, "GenuineIntel"))
		return &vmx_ops;
	log_err("unknown CPU vendor '%s'; lamina supports AMD-V and Intel VT-x", id);
	return NULL;
}

/* Nothing to run: lamina stays up, idle, and says why. */
static __noreturn void idle(const char *why)
{
	log_err("%s", why);
	log_info("lamina stays up with no guest running");
	halt_forever();
}

static void start_guest_on_bsp(struct vcpu *v)
{
	struct guest_entry entry;
	char why[256];
	const char *err = loader_prepare(&entry, why, sizeof(why));

	if (err)
		idle(err);
	vendor->reset(v, &entry.reset);
	memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[X86_RAX] = entry.eax;
	v->gpr[X86_RBX] = entry.ebx;
	v->gpr[X86_RSI] = entry.esi;
	v->state = VCPU_RUNNING;
	log_info("starting the %s guest at %#llx on %u CPU%s (%s)", entry.kind,
		 (unsigned long long)entry.reset.rip, cpu_count, cpu_count > 1 ? "s" : "",
		 vendor->name);
}

__noreturn void lamina_main(void)
{
	const char *err;

	idt_init();
	arch_cpu_init(this_cpu());
	tsc_calibrate();
	if ((err = acpi_init()))
		log_err("%s: lamina will use the boot CPU only", err);
	apic_init();
	vendor = pick_vendor();
	if (!vendor)
		idle("lamina cannot run on this CPU");
	if ((err = vendor->check()))
		idle(err);
	log_info("virtualization: %s", vendor->name);
	if (guest_map_init())
		idle("the memory map has too many ranges to mark lamina's memory reserved in it");
	pci_discover();
	if ((err = nested_init()))
		idle(err);
	protect_init();
	a20_keep_open();
	qemu_ports_guard();
	cmos_shutdown_keep_clear();
	hpet_guard_init();
	acpi_sleep_init();
	mmio_test_init();
	bool devices_ok = pci_init();
	smp_boot_aps();
	if (vendor->cpu_enable())
		panic("cannot enable %s on the boot CPU", vendor->name);
	struct vcpu *v = vcpu_create(this_cpu(), nested_root());
	smp_prepare_guest();
	msr_prepare_guest();
	crash_on_purpose();
	if (!options_ok)
		idle("a protecting option is malformed or cut off (see above): the guest does not start");
	if (!devices_ok)
		idle("a device could not be mediated as asked (see above): the guest does not start");
	start_guest_on_bsp(v);
	vcpu_loop(v);
}
