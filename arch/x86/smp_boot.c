/* Starting every CPU of the ACPI MADT into lamina, before the guest runs:
 * INIT-SIPI-SIPI into the trampoline, one AP at a time. */
#include <core/bootinfo.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/options.h>
#include <core/panic.h>
#include <core/smp.h>
#include <core/string.h>
#include <core/time.h>
#include <x86/acpi.h>
#include <x86/apic.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>
#include <x86/paging.h>

extern const char trampoline_start[], trampoline_end[];
extern const char tramp_far32[], tramp_far64[], tramp_gdt_desc[], tramp_cr3[];
extern const char tramp_efer[], tramp_entry[], tramp_stack[], tramp_cpu[];
extern const char ap_entry64[], wake_entry64[];

#define TRAMP_PAGES 4 /* code, PML4, PDPT, PD */

static u64 opt_maxcpus = MAX_CPUS;
static int parse_maxcpus(const char *v, void *target)
{
	u64 n;

	if (parse_u64(v, &n) || n < 1 || n > MAX_CPUS)
		return -1;
	*(u64 *)target = n;
	return 0;
}
OPTION(maxcpus, "maxcpus", "<n>, 1 to 64 (default: every CPU, up to 64)", parse_maxcpus,
       &opt_maxcpus, "CPUs lamina takes, the boot CPU included; the guest cannot start "
       "the others");

static u8 *tramp;   /* lamina's address of the trampoline area */
static u64 tramp_pa;

/* The AP being started: set before its INIT, and taken (set to NULL) by
 * whichever comes first, the AP arriving in ap_start or the boot CPU
 * giving up on it. */
static struct cpu *ap_expected;

static void *field(const char *sym)
{
	return tramp + (sym - trampoline_start);
}

static void patch32(const char *sym, u32 add)
{
	*(u32 *)field(sym) += add;
}

/* A free page-aligned area below 1 MiB that no boot module or the boot
 * information uses (the guest has not started: it is ours to borrow). */
static int find_low_area(void)
{
	struct mem_range avoid[BOOT_MAX_MODULES + 2];
	unsigned int n = 0;

	avoid[n++] = (struct mem_range){ 0, PAGE_SIZE, 0 };
	avoid[n++] = (struct mem_range){ boot_info.info_base, boot_info.info_size, 0 };
	for (unsigned int i = 0; i < boot_info.nmods; i++)
		avoid[n++] = (struct mem_range){ boot_info.mods[i].start,
			boot_module_size(&boot_info.mods[i]), 0 };
	return memmap_find_free(&boot_info.fw_map, TRAMP_PAGES * PAGE_SIZE, PAGE_SIZE,
				0x100000, avoid, n, &tramp_pa);
}

static void setup_trampoline(void)
{
	u64 *pml4, *pdpt, *pd;

	memcpy(tramp, trampoline_start, trampoline_end - trampoline_start);
	patch32(tramp_gdt_desc + 2, (u32)tramp_pa);
	patch32(tramp_far32, (u32)tramp_pa);
	patch32(tramp_far64, (u32)tramp_pa);
	*(u64 *)field(tramp_cr3) = tramp_pa + PAGE_SIZE;
	*(u64 *)field(tramp_efer) = EFER_LME |
		(cpu_has(0x80000001, CPUID_EDX, 20) ? EFER_NXE : 0);
	*(u64 *)field(tramp_entry) = (uintptr_t)ap_entry64;

	/* Temporary PML4: low 2 MiB identity (this code), upper half shared. */
	pml4 = (u64 *)(tramp + PAGE_SIZE);
	pdpt = (u64 *)(tramp + 2 * PAGE_SIZE);
	pd = (u64 *)(tramp + 3 * PAGE_SIZE);
	memset(pml4, 0, 3 * PAGE_SIZE);
	memcpy(&pml4[256], &((u64 *)phys_to_virt(host_cr3))[256], 256 * sizeof(u64));
	pml4[0] = (tramp_pa + 2 * PAGE_SIZE) | 3;
	pdpt[0] = (tramp_pa + 3 * PAGE_SIZE) | 3;
	pd[0] = 0x83; /* 2 MiB page at 0 */
}

/* An AP's first C code, from the trampoline (ap_entry64), on its own
 * stack. An AP that comes after the boot CPU gave up on it halts here
 * until the INIT the boot CPU sent it lands, having touched nothing
 * shared (a lock, VMX, the cpus[] slot the next AP gets). */
void ap_start(struct cpu *c);
void ap_start(struct cpu *c)
{
	struct cpu *want = c;

	if (!__atomic_compare_exchange_n(&ap_expected, &want, NULL, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		halt_forever();
	smp_ap_main(c);
}

/* c did not come online in time. If it has not arrived in ap_start
 * either, it never will: an INIT puts it back to waiting for a SIPI
 * wherever it is (in the trampoline, or halted in ap_start), before the
 * trampoline is patched for the next AP or given back to the guest, and
 * only a SIPI ends that wait, which the guest cannot send to a CPU
 * outside lamina (smp_note_cpu_outside). A trampoline that only halts
 * would not do: the guest gets the low pages back and writes its own
 * code there, and a halted CPU still runs the guest's NMI handler from
 * the real-mode IVT. false: it arrived after all, and is on its way. */
static bool abandon(struct cpu *c)
{
	struct cpu *want = c;

	if (!__atomic_compare_exchange_n(&ap_expected, &want, NULL, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return false;
	apic_send_ipi(c->apic_id, ICR_DM_INIT | ICR_LEVEL_ASSERT);
	udelay(10000);
	return true;
}

static bool wait_online(struct cpu *c, u64 ns)
{
	u64 deadline = time_ns() + ns;

	while (!c->online && time_ns() < deadline)
		cpu_relax();
	return c->online;
}

static bool start_ap(struct cpu *c)
{
	u8 vector = (u8)(tramp_pa >> PAGE_SHIFT);

	*(u64 *)field(tramp_stack) = c->stack_top;
	*(u64 *)field(tramp_cpu) = (uintptr_t)c;
	__atomic_store_n(&ap_expected, c, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	apic_send_ipi(c->apic_id, ICR_DM_INIT | ICR_LEVEL_ASSERT);
	udelay(10000);
	for (int i = 0; i < 2 && !c->online; i++) {
		apic_send_ipi(c->apic_id, ICR_DM_SIPI | vector);
		udelay(200);
	}
	/* Emulated CPUs can be slow to get going: wait up to a second. */
	if (wait_online(c, 1000000000ull) || abandon(c))
		return c->online;
	/* It arrived in ap_start just in time: what is left is lamina's
	 * own per-CPU setup, which does not take seconds. */
	if (!wait_online(c, 10000000000ull))
		panic("the CPU with APIC ID %u began lamina's per-CPU setup but did not finish it",
		      c->apic_id);
	return true;
}

/* Each AP of the MADT into lamina. Any CPU that does not make it (or that
 * lamina cannot know of) stays outside, and smp.c keeps the guest from
 * starting it. */
void smp_boot_aps(void)
{
	u32 ids[MAX_CPUS];
	struct madt_cpus madt = { .ids = ids };
	u32 self = apic_id();

	cpus[0]->apic_id = self;
	acpi_madt_cpus(&madt, MAX_CPUS);
	if (!madt.complete)
		smp_note_cpu_outside();
	if (madt.n == 0 || (madt.n == 1 && ids[0] == self))
		return;
	if (find_low_area()) {
		log_err("no free memory below 1 MiB for the AP start-up code; "
			"running on the boot CPU only");
		smp_note_cpu_outside();
		return;
	}
	tramp = phys_to_virt(tramp_pa);
	setup_trampoline();
	for (unsigned int i = 0; i < madt.n; i++) {
		if (ids[i] == self)
			continue;
		if (cpu_count == opt_maxcpus) {
			log_warn("maxcpus=%llu: the CPU with APIC ID %u is left out",
				 (unsigned long long)opt_maxcpus, ids[i]);
			smp_note_cpu_outside();
			continue;
		}
		struct cpu *c = arch_cpu_alloc(cpu_count, ids[i]);
		cpus[cpu_count] = c;
		if (!start_ap(c)) {
			log_err("CPU with APIC ID %u did not start; going on without it (sent INIT: "
				"it waits for a SIPI, which the guest cannot send it)", ids[i]);
			cpus[cpu_count] = NULL;
			smp_note_cpu_outside();
			continue;
		}
		cpu_count++;
	}
	/* The guest gets the low pages back, without lamina's addresses (of
	 * its page tables, stacks, code) in them; no AP can run them now. */
	memset(tramp, 0, TRAMP_PAGES * PAGE_SIZE);
	log_info("%u CPUs under lamina (APIC IDs from the MADT)", cpu_count);
}

/* Sleep states (S2/S3, core/suspend.c): the boot CPU wakes in real mode
 * at the waking vector, and the APs come back without lamina. The
 * trampoline serves both, in its low pages borrowed from the guest while
 * the guest's CPUs are held in lamina, and given back before it runs. */
static u8 *wake_saved; /* the guest's contents of those pages */

u32 smp_wake_prepare(void)
{
	if (!tramp_pa && find_low_area())
		return 0;
	if (!wake_saved && !(wake_saved = page_alloc(2))) /* TRAMP_PAGES */
		return 0;
	tramp = phys_to_virt(tramp_pa);
	memcpy(wake_saved, tramp, TRAMP_PAGES * PAGE_SIZE);
	setup_trampoline();
	*(u64 *)field(tramp_entry) = (uintptr_t)wake_entry64;
	*(u64 *)field(tramp_stack) = cpus[0]->stack_top;
	*(u64 *)field(tramp_cpu) = (uintptr_t)cpus[0];
	return (u32)tramp_pa;
}

void smp_wake_restore(void)
{
	memcpy(tramp, wake_saved, TRAMP_PAGES * PAGE_SIZE);
}

/* On the boot CPU after the wake: each AP into lamina again, as at boot
 * (smp_ap_main finds its vCPU there), with a second and third try (seen
 * once on QEMU under load: an AP that did not arrive within a second of
 * its SIPIs). One that does not come stays out. */
void smp_wake_aps(void)
{
	*(u64 *)field(tramp_entry) = (uintptr_t)ap_entry64;
	for (unsigned int i = 1; i < cpu_count; i++) {
		struct cpu *c = cpus[i];
		bool up = false;

		__atomic_store_n(&c->online, false, __ATOMIC_RELEASE);
		for (unsigned int try = 0; try < 3 && !up; try++) {
			if (try)
				log_warn("CPU %u (APIC ID %u) did not come back into lamina after "
					 "the sleep: INIT-SIPI-SIPI again", c->index, c->apic_id);
			up = start_ap(c);
		}
		if (!up) {
			log_err("CPU %u (APIC ID %u) did not come back into lamina after the "
				"sleep; the guest cannot start it", c->index, c->apic_id);
			smp_note_cpu_outside();
		}
	}
}
