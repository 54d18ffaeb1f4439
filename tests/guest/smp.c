/* smp: start every AP the way Linux does and see each check in once.
 * The BSP finds the enabled CPUs in the ACPI MADT, then sends each AP
 * INIT (assert, 10 ms, de-assert) and two STARTUP IPIs 200 us apart, to
 * its APIC ID through the ICR. The AP runs a real-mode trampoline into
 * 32-bit protected mode, records its APIC ID and halts. Under lamina,
 * once all are up, APIC accesses must cause no exits any more.
 *
 * Options:
 *   x2apic          every CPU goes to x2APIC mode (the BSP first, each AP
 *                   itself after checking in); IPIs through the ICR MSR
 *   ipi=broadcast   one INIT/SIPI/SIPI to all-excluding-self instead
 *   ipi=target      one per AP (the default)
 *   init_delay=US   INIT assert to de-assert (default 10000)
 *   sipi_delay=US   after each SIPI (default 200)
 *   reinit=restart  afterwards, INIT-SIPI-SIPI again to the first AP while
 *                   it runs (halted in its check-in loop, no WBINVD first):
 *                   it must check in once more, as on hardware
 *   reinit=parked   the same, but the AP must stay down and the BSP run on
 *                   (lamina on AMD-V cannot restart a CPU an INIT reached)
 *   aps=N           under lamina (run with maxcpus=N+1): only the first N
 *                   APs of the MADT start; INIT/SIPI to the others, which
 *                   lamina does not run, must never start them, and the
 *                   APIC intercepts stay on
 *   outside         under lamina: the MADT lists CPUs that may come online
 *                   later (hot-plug), which lamina does not run: the APIC
 *                   intercepts stay on
 *   stray[=no-ff]   before starting them, every AP gets fixed IPIs on
 *                   vectors 0x11, 0x12, 0x14 and 0x1f (exception vectors,
 *                   which a local APIC still delivers; 0x12 is #MC's),
 *                   0x30 and 0xff (no-ff: not
 *                   0xff, which Bochs 2.7's APIC never takes out of service
 *                   when it is also the spurious vector): an AP that waits
 *                   for its SIPI (in lamina, on AMD-V) takes none of them
 *                   into account and starts as usual
 *   extint          before starting them, the first AP gets an ExtINT:
 *                   the PIT's IRQ 0 through the 8259, programmed for
 *                   vectors 8-15 (vector 8 is #DF's, which pushes an error
 *                   code where an interrupt does not), routed to that AP by
 *                   an I/O APIC entry with delivery mode ExtINT; it must
 *                   start as usual
 *   eject           QEMU q35: afterwards, the first AP is ejected through
 *                   QEMU's ACPI CPU hot-plug registers (port 0xcd8): bare
 *                   QEMU removes it, under lamina (which runs on it) it
 *                   stays */
#include "acpi.h"
#include "ap.h"
#include "apic.h"
#include "boot.h"
#include "cpu.h"
#include "hc.h"
#include "print.h"
#include "tap.h"
#include "timer.h"
#include "trap.h"
#include "util.h"

const char test_name[] = "smp";
const char *const test_options[] = { "x2apic", "ipi", "init_delay", "sipi_delay", "reinit",
				      "outside", "aps", "stray", "extint", "eject", NULL };

#define START_TIMEOUT_US 10000000u /* for all APs together */
#define MAX_ID 256

static struct acpi_cpus cpus;
static u32 bsp_id, n_aps;
static u32 n_up; /* APs expected to start: n_aps, or aps=N */
static bool use_x2apic;

/* Written by the APs. */
static volatile u32 checkins[MAX_ID];  /* by APIC ID */
static volatile u32 arrived;           /* total check-ins */
static volatile u32 x2apic_ok[MAX_ID]; /* 1: AP in x2APIC mode, right ID */
static volatile u32 x2apic_done;

static u32 initial_apic_id(void)
{
	return cpuid(1).ebx >> 24;
}

/* On each AP, from the trampoline. */
static void ap_checkin(void)
{
	u32 id = initial_apic_id();

	__atomic_add_fetch(&checkins[id % MAX_ID], 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	if (!use_x2apic)
		return;
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_X2APIC | APIC_BASE_ENABLE);
	x2apic_ok[id % MAX_ID] = (rdmsr(MSR_APIC_BASE) & APIC_BASE_X2APIC) &&
				 (u32)rdmsr(0x802) == id;
	__atomic_add_fetch(&x2apic_done, 1, __ATOMIC_SEQ_CST);
}

/* Waits until *counter reaches n or the deadline passes. */
static bool wait_count(volatile u32 *counter, u32 n, u64 deadline)
{
	while (*counter < n)
		if (time_us() > deadline)
			return false;
	return true;
}

static bool init_sipi_sipi(u32 dest, u32 shorthand, u32 vector)
{
	return apic_init_sipi_sipi(dest, shorthand, vector, (u32)boot_opt_num("init_delay", 10000),
				   (u32)boot_opt_num("sipi_delay", 200));
}

/* An INIT through the x2APIC ICR MSR (with the ICR bits `extra`) that
 * must fault, also while lamina watches the ICR to start APs:
 *  - in xAPIC mode, where the MSR does not exist (SDM 10.12.1.2; bare,
 *    QEMU 7.2's TCG ignores the write instead, Bochs faults);
 *  - in x2APIC mode with a reserved ICR bit set (bits 12, 13, 16, 17 and
 *    20-31, SDM 11.12.9; Bochs 2.7 bare ignores them).
 * The INIT then starts nothing. */
static void check_icr_msr_init_faults(u32 extra, const char *what)
{
	u32 ap = cpus.apic_id[0] == bsp_id ? cpus.apic_id[1] : cpus.apic_id[0];
	int vec = wrmsr_probe(0x830, (u64)ap << 32 | extra | ICR_INIT | ICR_LEVEL | ICR_ASSERT);

	if (!lamina_present()) {
		tap_skip("bare", "%s gave %s", what, vector_name(vec));
		return;
	}
	tap_eq(vec, VEC_GP, "%s faults with #GP (%s)", what, vector_name(vec));
}

static bool start_aps(u32 vector, bool broadcast)
{
	u64 deadline = time_us() + START_TIMEOUT_US;
	bool sent = true;
	u32 started = 0;

	if (broadcast) {
		sent = init_sipi_sipi(0, ICR_ALL_BUT_SELF, vector);
		return wait_count(&arrived, n_up, deadline) && sent;
	}
	for (u32 i = 0; i < cpus.count; i++) {
		if (cpus.apic_id[i] == bsp_id)
			continue;
		/* One at a time, as Linux does: wait for this one first. */
		sent &= init_sipi_sipi(cpus.apic_id[i], 0, vector);
		if (started == n_up) { /* outside lamina: must stay down */
			wait_count(&arrived, started + 1, time_us() + 1000000);
			tap_eq(arrived, started, "smp: APIC ID %u, outside lamina, did not start",
			       cpus.apic_id[i]);
			continue;
		}
		if (!wait_count(&arrived, ++started, deadline)) {
			kprintf("#   APIC ID %u did not check in\n", cpus.apic_id[i]);
			return false;
		}
	}
	return sent;
}

/* Whether this APIC ID is one of the first n_up APs of the MADT. */
static bool expected_up(u32 id)
{
	u32 aps = 0;

	for (u32 i = 0; i < cpus.count && aps < n_up; i++) {
		if (cpus.apic_id[i] == bsp_id)
			continue;
		if (cpus.apic_id[i] == id)
			return true;
		aps++;
	}
	return false;
}

static void check_checkins(u64 elapsed_us)
{
	u32 others = 0;

	tap_eq(arrived, n_up, "smp: %u APs checked in (in %llu ms)", n_up,
	       elapsed_us / 1000);
	for (u32 i = 0; i < cpus.count; i++)
		if (expected_up(cpus.apic_id[i]))
			tap_eq(checkins[cpus.apic_id[i] % MAX_ID], 1,
			       "smp: APIC ID %u checked in once", cpus.apic_id[i]);
	for (u32 id = 0; id < MAX_ID; id++)
		if (!expected_up(id))
			others += checkins[id];
	tap_eq(others, 0, "smp: no check-in from an APIC ID not started");
}

static void check_x2apic_aps(void)
{
	bool all = wait_count(&x2apic_done, n_up, time_us() + 1000000);

	tap_check(all, "x2apic: every AP switched itself (%u of %u)", x2apic_done, n_up);
	for (u32 i = 0; i < cpus.count; i++)
		if (expected_up(cpus.apic_id[i]))
			tap_eq(x2apic_ok[cpus.apic_id[i] % MAX_ID], 1,
			       "x2apic: APIC ID %u in x2APIC mode with its ID", cpus.apic_id[i]);
}

/* The exit counts the steady-state check watches on CPU 0 (the BSP). */
static const u32 watched[] = { LAMINA_EXIT_NESTED_FAULT, LAMINA_EXIT_MSR_WRITE,
			       LAMINA_EXIT_MSR_READ, LAMINA_EXIT_HYPERCALL };
static const char *const watched_name[] = { "nested-paging", "WRMSR", "RDMSR", "hypercall" };

static bool read_counts(u64 counts[ARRAY_SIZE(watched)])
{
	bool ok = true;

	for (u32 i = 0; i < ARRAY_SIZE(watched); i++)
		ok &= hc_exit_count(0, watched[i], &counts[i]);
	return ok;
}

/* Once every AP runs, lamina should have dropped the intercepts it used
 * to start them: TPR writes, in the same APIC page (or MSR range) as the
 * ICR, must cause no exits. Between the two readings of the hypercall
 * count lie exactly as many EXIT_COUNT calls as one reading makes. */
static void check_steady_state(void)
{
	u64 a[ARRAY_SIZE(watched)], b[ARRAY_SIZE(watched)];
	bool ok;

	if (!lamina_present()) {
		tap_skip("bare", "steady state: no APIC exits");
		return;
	}
	ok = read_counts(a);
	for (u32 i = 0; i < 1000; i++)
		apic_write(APIC_TPR, (i & 1) << 4);
	apic_write(APIC_TPR, 0);
	ok &= read_counts(b);
	if (!tap_check(ok, "steady state: EXIT_COUNT works"))
		return;
	if (n_up < n_aps || boot_opt("outside")) { /* a CPU outside lamina: the ICR stays watched */
		tap_check(b[0] - a[0] + b[1] - a[1] >= 1000,
			  "steady state: with a CPU outside lamina, APIC writes still exit "
			  "(%llu nested-paging, %llu WRMSR)", b[0] - a[0], b[1] - a[1]);
		return;
	}
	for (u32 i = 0; i + 1 < ARRAY_SIZE(watched); i++)
		tap_eq(b[i] - a[i], 0, "steady state: 1000 TPR writes, no %s exits", watched_name[i]);
	tap_eq(b[3] - a[3], ARRAY_SIZE(watched),
	       "steady state: only the EXIT_COUNT calls counted as hypercalls");
}

/* INIT-SIPI-SIPI to an AP that runs (the reinit= option). */
static void check_reinit(u32 vector, const char *expect)
{
	bool restart = strcmp(expect, "restart") == 0;
	u32 ap = cpus.apic_id[0] == bsp_id ? cpus.apic_id[1] : cpus.apic_id[0];
	u32 before = arrived;
	u64 base, size;

	if (!restart && strcmp(expect, "parked") != 0) {
		tap_check(false, "cmdline: reinit=%s is neither restart nor parked", expect);
		return;
	}
	if (!tap_check(n_aps > 0, "reinit: there is an AP to restart"))
		return;
	init_sipi_sipi(ap, 0, vector);
	wait_count(&arrived, before + 1, time_us() + 1000000);
	if (restart)
		tap_eq(arrived - before, 1, "reinit: APIC ID %u checked in again", ap);
	else
		tap_eq(arrived - before, 0, "reinit: APIC ID %u stays down", ap);
	tap_check(!lamina_present() || hc_meminfo(&base, &size),
		  "reinit: the BSP runs on (and lamina answers it)");
}

/* The stray option: fixed IPIs that an AP waiting for its SIPI must not
 * be brought down by. */
static void send_strays(const char *how)
{
	static const u32 vectors[] = { 0x11, 0x12, 0x14, 0x1f, 0x30, 0xff };
	bool no_ff = strcmp(how, "no-ff") == 0;
	u32 n = ARRAY_SIZE(vectors) - no_ff;
	bool sent = true;

	if (*how && !no_ff)
		tap_check(false, "cmdline: stray=%s is not no-ff", how);
	for (u32 i = 0; i < cpus.count; i++)
		for (u32 j = 0; j < n && cpus.apic_id[i] != bsp_id; j++)
			sent &= apic_send_ipi(cpus.apic_id[i], vectors[j]);
	udelay(20000);
	tap_check(sent, "stray: fixed IPIs on vectors 0x11, 0x12, 0x14, 0x1f, 0x30%s sent to every AP",
		  no_ff ? "" : ", 0xff");
}

/* The extint option. Both emulators' firmware puts the I/O APIC at
 * 0xfec00000 and wire the PIT's IRQ 0 to its pin 2. Both also sample the
 * pin before the 8259 sees the edge, so an edge-triggered entry would
 * acknowledge an 8259 with nothing pending and carry its spurious vector
 * (15): the PIT holds the line high instead (mode 0) and the entry, level
 * triggered, is opened only once the 8259 has the request. */
#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_PIT_PIN 2
#define IOAPIC_REDIR_LO(pin) (0x10 + 2 * (pin))
#define IOAPIC_MASKED BIT(16)
#define IOAPIC_LEVEL BIT(15)
#define IOAPIC_DM_EXTINT (7u << 8)

static void ioapic_write(u32 reg, u32 val)
{
	*(volatile u32 *)IOAPIC_BASE = reg;
	*(volatile u32 *)(IOAPIC_BASE + 0x10) = val;
}

static bool pic_irq0_in_service(void)
{
	outb(0x20, 0x0b); /* OCW3: read the ISR */
	return inb(0x20) & 1;
}

static void send_extints(void)
{
	u32 ap = cpus.apic_id[0] == bsp_id ? cpus.apic_id[1] : cpus.apic_id[0];
	u32 entry = IOAPIC_LEVEL | IOAPIC_DM_EXTINT;
	u64 deadline;
	bool taken;

	/* 8259 master at vectors 8-15, everything closed for now. */
	outb(0x20, 0x11);
	outb(0x21, 0x08);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0xa1, 0xff);
	outb(0x21, 0xff);
	ioapic_write(IOAPIC_REDIR_LO(IOAPIC_PIT_PIN) + 1, ap << 24);
	ioapic_write(IOAPIC_REDIR_LO(IOAPIC_PIT_PIN), entry | IOAPIC_MASKED);
	/* PIT channel 0, mode 0: IRQ 0 goes high after 2 counts and stays. */
	outb(0x43, 0x30);
	outb(0x40, 2);
	outb(0x40, 0);
	udelay(1000);
	outb(0x21, 0xfe);
	ioapic_write(IOAPIC_REDIR_LO(IOAPIC_PIT_PIN), entry);
	/* The I/O APIC acknowledges the 8259 as it delivers: IRQ 0 in service
	 * there means the ExtINT (vector 8) went out to the AP. */
	deadline = time_us() + 200000;
	while (!(taken = pic_irq0_in_service()) && time_us() < deadline)
		;
	ioapic_write(IOAPIC_REDIR_LO(IOAPIC_PIT_PIN), entry | IOAPIC_MASKED);
	outb(0x21, 0xff);
	outb(0x20, 0x20); /* non-specific EOI */
	udelay(20000);
	tap_check(taken, "extint: the 8259's IRQ 0 (vector 8) went to APIC ID %u as an ExtINT", ap);
}

/* The eject option: QEMU's "modern" CPU hot-plug block (q35: 0xcd8),
 * which a write of 0 at offset 0 switches to from the legacy bitmap (the
 * DSDT's code does so under an OS). Offset 0 then selects a CPU by its
 * index among the possible ones; the byte at 4 reads bit 0 set while it is
 * there and, written with bit 3, ejects it. */
#define CPUHP_BASE 0xcd8
#define CPUHP_FLAGS (CPUHP_BASE + 4)
#define CPUHP_ENABLED BIT(0)
#define CPUHP_EJECT BIT(3)

static u8 cpuhp_flags(u32 cpu)
{
	__asm__ volatile("outl %0, %1" ::"a"(cpu), "Nd"((u16)CPUHP_BASE));
	return inb(CPUHP_FLAGS);
}

static void check_eject(void)
{
	u8 before, after;

	cpuhp_flags(0); /* to modern mode */
	before = cpuhp_flags(1);
	if (before == 0xff) {
		tap_skip("no CPU hot-plug block at 0xcd8", "eject: the first AP");
		return;
	}
	tap_eq(before & CPUHP_ENABLED, CPUHP_ENABLED, "eject: CPU 1 present (flags 0x%x)", before);
	outb(CPUHP_FLAGS, CPUHP_EJECT);
	udelay(100000);
	after = cpuhp_flags(1);
	if (lamina_present())
		tap_eq(after & CPUHP_ENABLED, CPUHP_ENABLED,
		       "eject: CPU 1, which lamina runs on, stays (flags 0x%x)", after);
	else
		tap_eq(after & CPUHP_ENABLED, 0, "eject: bare, QEMU removed CPU 1 (flags 0x%x)",
		       after);
}

static bool setup_bsp(void)
{
	bool timer = timer_init();

	tap_check(timer, "timer: TSC calibrated against the PIT (%u kHz)", tsc_khz());
	if (!tap_check(acpi_find_cpus(&cpus) && cpus.count, "acpi: MADT lists CPUs"))
		return false;
	if (!tap_check(apic_init(), "apic: BSP's local APIC enabled"))
		return false;
	bsp_id = initial_apic_id();
	n_aps = cpus.count - 1;
	n_up = lamina_present() ? MIN((u32)boot_opt_num("aps", n_aps), n_aps) : n_aps;
	if (use_x2apic) {
		if (!tap_check(cpu_has(1, CPUID_ECX, 21), "x2apic: CPUID announces x2APIC"))
			return false;
		apic_enable_x2apic();
		tap_eq(apic_self_id(), bsp_id, "x2apic: BSP in x2APIC mode, ID %u", bsp_id);
	}
	for (u32 i = 0; i < cpus.count; i++)
		kprintf("# cpu %u: APIC ID %u%s\n", i, cpus.apic_id[i],
			cpus.apic_id[i] == bsp_id ? " (BSP)" : "");
	return true;
}

void test_main(void)
{
	const char *ipi = boot_opt("ipi");
	bool broadcast = ipi && strcmp(ipi, "broadcast") == 0;
	u32 vector, before;
	u64 t0;

	if (ipi && !broadcast && strcmp(ipi, "target") != 0)
		tap_check(false, "cmdline: ipi=%s is neither broadcast nor target", ipi);
	use_x2apic = boot_opt("x2apic") != NULL;
	if (!setup_bsp())
		return;
	vector = ap_tramp_install(ap_checkin);
	if (!tap_check(vector != 0, "smp: trampoline below 1 MiB at 0x%x", vector << 12))
		return;
	kprintf("# starting %u APs, %u of them under lamina (%s, %s)\n", n_aps, n_up,
		broadcast ? "broadcast" : "targeted", use_x2apic ? "x2APIC" : "xAPIC");
	if (!use_x2apic && n_aps)
		check_icr_msr_init_faults(0, "xapic: an INIT through the x2APIC ICR MSR");
	if (use_x2apic && n_aps)
		check_icr_msr_init_faults(BIT(20), "x2apic: an ICR write with reserved bit 20");
	if (boot_opt("stray") && n_aps)
		send_strays(boot_opt("stray"));
	if (boot_opt("extint") && n_aps)
		send_extints();
	t0 = time_us();
	tap_check(start_aps(vector, broadcast), "smp: INIT/SIPI/SIPI sent and all APs up");
	check_checkins(time_us() - t0);
	/* A second start of an AP would show up as a late check-in. */
	before = arrived;
	udelay(100000);
	tap_eq(arrived, before, "smp: no AP checked in again later");
	if (use_x2apic)
		check_x2apic_aps();
	check_steady_state();
	if (boot_opt("reinit"))
		check_reinit(vector, boot_opt("reinit"));
	if (boot_opt("eject"))
		check_eject();
}
