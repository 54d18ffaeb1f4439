/* panic() and the common end of every fatal error: report once, show the
 * call chain, stop all CPUs. CPUs running the guest are stopped by an NMI,
 * which lamina intercepts. */
#include <core/cpu.h>
#include <core/exit_history.h>
#include <core/format.h>
#include <core/log.h>
#include <core/panic.h>
#include <core/symbols.h>
#include <x86/apic.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>
#include <x86/boot_layout.h>
#include <x86/fatal.h>
#include <stdarg.h>

static int fatal_cpu = -1;

bool fatal_in_progress(void)
{
	return __atomic_load_n(&fatal_cpu, __ATOMIC_ACQUIRE) >= 0;
}

void fatal_begin(void)
{
	int none = -1;

	irq_disable();
	if (!__atomic_compare_exchange_n(&fatal_cpu, &none, (int)this_cpu_index(),
					 false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		halt_forever(); /* another CPU is reporting */
	log_fatal_mode();
}

/* The other CPUs are stopped first: a CPU the NMI takes out of the guest
 * halts before it records that exit, so the exit histories hold still
 * while they are printed. */
__noreturn void fatal_end(void)
{
	apic_send_nmi_all_but_self();
	exit_history_print();
	log_raw("lamina: stopping all CPUs\n");
	halt_forever();
}

static bool plausible_frame(u64 rbp)
{
	return rbp && !(rbp & 7) && rbp >= DIRECT_MAP_BASE;
}

void backtrace(u64 rip, u64 rbp)
{
	log_raw("  call chain:\n");
	for (int depth = 0; depth < 24; depth++) {
		u64 off;
		const char *name = symbol_lookup(rip, &off);
		if (name)
			log_raw("    %016llx %s+%#llx\n", (unsigned long long)rip, name,
				(unsigned long long)off);
		else
			log_raw("    %016llx\n", (unsigned long long)rip);
		if (!plausible_frame(rbp))
			break;
		const u64 *frame = (const u64 *)(uintptr_t)rbp;
		rip = frame[1];
		if (!rip || frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
}

__noreturn void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	fatal_begin();
	va_start(ap, fmt);
	format_v(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_raw("\nlamina: PANIC on cpu%u: %s\n", this_cpu_index(), msg);
	/* Start at our caller: its return address and its frame. */
	backtrace((u64)(uintptr_t)__builtin_return_address(0),
		  *(const u64 *)__builtin_frame_address(0));
	fatal_end();
}
