/* Sleep states that take the CPUs' state (S2, S3) under lamina. In them
 * the CPUs lose everything, and firmware resumes the boot CPU in real
 * mode at the waking vector the OS left in the FACS, with virtualization
 * off. So lamina does the guest's last write itself, once:
 *  - every other CPU is held in lamina (none runs guest code meanwhile);
 *  - the waking vector is lamina's trampoline, in low pages borrowed from
 *    the guest (the guest's contents kept aside);
 *  - caches written back, the guest's write replayed to the hardware.
 * The boot CPU wakes into suspend_wake: lamina's own state back (tables,
 * console, clock, the virtualization extension), every AP started into
 * lamina again to wait for the guest's INIT-SIPI-SIPI, the borrowed pages
 * and the guest's vector given back, and the guest's boot CPU started in
 * real mode at its waking vector, as firmware would have. Whichever CPU
 * wrote the sleep, the boot CPU is the one that wakes, as on hardware.
 * A sleep lamina cannot wake from (no waking vector, a 32/64-bit one)
 * is refused: the write is dropped and logged. */
#include <core/acpi_sleep.h>
#include <core/console.h>
#include <core/io.h>
#include <core/log.h>
#include <core/panic.h>
#include <core/smp.h>
#include <core/suspend.h>
#include <core/time.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>

#define HOLD_TIMEOUT_NS 2000000000ull
/* A machine that has not slept this long after the write will not. */
#define SLEEP_TIMEOUT_NS 10000000000ull

static struct vcpu *volatile requester;
static struct {
	u16 port;
	u8 size;
	u32 val;
} write;
static u32 guest_vector;
static u64 ns_at_sleep;
static struct log_limit refusals = LOG_LIMIT("sleep state refusals");

void suspend_request(struct vcpu *v, u16 port, unsigned int size, u32 val)
{
	struct vcpu *none = NULL;

	/* One sleep at a time: a second CPU's write comes too late anyway. */
	if (!__atomic_compare_exchange_n(&requester, &none, v, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	write.port = port;
	write.size = (u8)size;
	write.val = val;
}

static void refuse(struct vcpu *v, const char *why)
{
	if (log_limit_pass(&refusals))
		log_warn("CPU %u: the guest's sleep (%#x to port %#x) is refused (dropped): %s",
			 v->cpu->index, write.val, write.port, why);
}

/* The write made, the CPU goes on only if the machine did not sleep. */
static void sleep_now(u32 wake)
{
	u64 deadline;

	ns_at_sleep = time_ns();
	log_info("the machine sleeps (%#x to port %#x); lamina wakes it at %05x",
		 write.val, write.port, wake);
	wbinvd();
	io_port_write(write.port, write.size, write.val);
	deadline = time_ns() + SLEEP_TIMEOUT_NS;
	while (time_ns() < deadline)
		cpu_relax();
}

static void suspend_run(struct vcpu *v)
{
	const char *why = acpi_sleep_guest_vector(&guest_vector);
	u32 wake;

	if (why) {
		refuse(v, why);
		return;
	}
	if (!smp_hold_others(HOLD_TIMEOUT_NS)) {
		refuse(v, "not every other CPU came into lamina within 2 s");
		return;
	}
	wake = smp_wake_prepare();
	if (!wake) {
		smp_release_others();
		refuse(v, "no low memory for lamina's waking code");
		return;
	}
	acpi_sleep_lend_vector(wake);
	sleep_now(wake);
	acpi_sleep_return_vector();
	smp_wake_restore();
	smp_release_others();
	log_err("the machine did not sleep within %llu s of the guest's write; the guest goes "
		"on", SLEEP_TIMEOUT_NS / 1000000000ull);
}

void suspend_before_entry(struct vcpu *v)
{
	if (__atomic_load_n(&requester, __ATOMIC_ACQUIRE) != v)
		return;
	suspend_run(v);
	__atomic_store_n(&requester, NULL, __ATOMIC_RELEASE);
}

__noreturn void suspend_wake(struct cpu *c)
{
	struct vcpu *v = c->vcpu;

	arch_cpu_init(c);
	console_init();
	tsc_resume(ns_at_sleep);
	if (vendor->cpu_enable())
		panic("cannot enable %s on the boot CPU after the sleep", vendor->name);
	log_info("woke from the sleep state: %s on again, starting the APs", vendor->name);
	smp_vcpu_woken(v);
	smp_wake_unhold();
	smp_wake_aps();
	smp_wake_restore();
	acpi_sleep_return_vector();
	vcpu_start_real_mode(v, (u16)(guest_vector >> 4), guest_vector & 0xf);
	__atomic_store_n(&requester, NULL, __ATOMIC_RELEASE);
	smp_wake_done();
	log_info("the guest resumes at its waking vector %05x", guest_vector);
	vcpu_loop(v);
}
