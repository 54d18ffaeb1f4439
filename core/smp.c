/* APs under lamina, and the guest starting them.
 *
 * Every AP comes up in lamina at boot (smp_boot_aps), turns on the
 * virtualization extension and waits for the guest's INIT-SIPI-SIPI:
 *  - AMD-V: a SIPI cannot be intercepted, so lamina watches the ICR of the
 *    sender (write-only trap of the xAPIC page, and the x2APIC ICR MSR),
 *    drops INIT and SIPI there, and wakes the halted AP with the vector.
 *  - VT-x: in the guest, in the wait-for-SIPI activity state; the SIPI
 *    arrives as an exit on the AP itself. The same ICR trap keeps the
 *    guest's INIT from an AP already waiting for SIPI and passes the SIPI
 *    on. An INIT to a CPU running the guest (offline/online) exits there.
 * Once every AP runs the guest, the trap is removed: no APIC exits in the
 * steady state. */
#include <core/exit_handlers.h>
#include <core/format.h>
#include <core/log.h>
#include <core/mmio.h>
#include <core/nested.h>
#include <core/panic.h>
#include <core/smp.h>
#include <x86/apic.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>
#include <x86/paging.h>

static unsigned int aps_started;
static volatile bool icr_trap_on;
static volatile u32 *real_apic;

static void release_icr_trap(void);

static void note_ap_started(struct vcpu *v)
{
	unsigned int n = __atomic_add_fetch(&aps_started, 1, __ATOMIC_ACQ_REL);

	log_info("the guest started CPU %u (APIC ID %u) at %04x:0000",
		 v->cpu->index, v->cpu->apic_id, (unsigned int)v->sipi_vector << 8);
	if (n == cpu_count - 1 && icr_trap_on)
		release_icr_trap();
}

static struct vcpu *vcpu_by_apic_id(u32 id)
{
	for (unsigned int i = 0; i < cpu_count; i++)
		if (cpus[i] && cpus[i]->apic_id == id)
			return cpus[i]->vcpu;
	return NULL;
}

/* INIT or SIPI from the guest to one vCPU, seen on the sender. */
static void deliver(struct vcpu *t, u32 icr)
{
	if (!t)
		return;
	if ((icr & ICR_DM_MASK) == ICR_DM_INIT) {
		if (t->state == VCPU_WAIT_INIT)
			t->state = VCPU_WAIT_SIPI;
		else if (t->state != VCPU_WAIT_SIPI)
			log_warn("guest sent INIT to running CPU %u: not supported, ignored",
				 t->cpu->index);
		return;
	}
	if (t->state != VCPU_WAIT_SIPI)
		return; /* the second SIPI, or one without INIT: ignored as by hardware */
	t->sipi_vector = ICR_VECTOR(icr);
	__atomic_store_n(&t->state, VCPU_STARTING, __ATOMIC_RELEASE);
	/* An AP waiting for SIPI in guest mode (VT-x) gets the SIPI itself
	 * (the trap only keeps the guest's INIT from it); one halted in
	 * lamina (AMD-V) is woken. */
	if (vendor->wait_for_sipi)
		apic_send_ipi(t->cpu->apic_id, ICR_DM_SIPI | t->sipi_vector);
	else
		apic_send_ipi(t->cpu->apic_id, ICR_DM_FIXED | VECTOR_WAKE);
}

bool smp_guest_icr_write(struct vcpu *v, u32 dest, u32 icr)
{
	u32 dm = icr & ICR_DM_MASK;

	if (!icr_trap_on || (dm != ICR_DM_INIT && dm != ICR_DM_SIPI))
		return false;
	/* INIT level de-assert (old APICs): nothing to do. */
	if (dm == ICR_DM_INIT && !(icr & ICR_LEVEL_ASSERT))
		return true;
	switch (icr & ICR_SHORTHAND_MASK) {
	case ICR_SELF:
		return true; /* INIT/SIPI to self is invalid: dropped */
	case ICR_ALL:
	case ICR_ALL_BUT_SELF:
		for (unsigned int i = 0; i < cpu_count; i++)
			if (cpus[i] && cpus[i]->vcpu != v)
				deliver(cpus[i]->vcpu, icr);
		return true;
	}
	if (icr & BIT(11))
		log_warn("guest INIT/SIPI with a logical destination: not supported, dropped");
	else
		deliver(vcpu_by_apic_id(dest), icr);
	return true;
}

/* The xAPIC page while APs start: reads pass, writes come here (and the
 * read half of an emulated read-modify-write). */
static void apic_page_read(struct vcpu *v, struct mmio_region *r, u64 gpa, void *data,
			   unsigned int size)
{
	u32 val = real_apic[(gpa & 0xfff & ~3u) / 4];

	__builtin_memcpy(data, &val, MIN(size, 4u));
}

static void apic_page_write(struct vcpu *v, struct mmio_region *r, u64 gpa,
			    const void *data, unsigned int size)
{
	u32 reg = gpa & 0xfff & ~3u, val = 0;

	__builtin_memcpy(&val, data, MIN(size, 4u));
	if (reg == APIC_ICR_LO &&
	    smp_guest_icr_write(v, real_apic[APIC_ICR_HI / 4] >> 24, val))
		return;
	real_apic[reg / 4] = val;
}

static const struct mmio_ops apic_page_ops = { apic_page_read, apic_page_write };
static struct mmio_region apic_page = {
	.name = "local APIC", .size = PAGE_SIZE, .ops = &apic_page_ops, .trap_reads = false,
};

static void arm_icr_trap(void)
{
	apic_page.base = apic_base_pa();
	real_apic = io_map(apic_page.base, PAGE_SIZE);
	icr_trap_on = true;
	mmio_register(&apic_page);
	vendor->intercept_msr(MSR_X2APIC_ICR, false, true);
}

static void release_icr_trap(void)
{
	icr_trap_on = false;
	mmio_unregister(&apic_page);
	vendor->intercept_msr(MSR_X2APIC_ICR, false, false);
	log_info("every AP runs the guest: APIC intercepts dropped");
}

bool smp_all_aps_started(void)
{
	return __atomic_load_n(&aps_started, __ATOMIC_ACQUIRE) + 1 >= cpu_count;
}

void smp_prepare_guest(void)
{
	/* Both vendors need the trap: AMD-V has no SIPI exit, and on VT-x an
	 * INIT must not reach an AP waiting for SIPI in guest mode (it would
	 * stay pending and strike after the SIPI; Bochs 2.7 keeps it for good,
	 * see arch/x86/vmx/vmx.c). */
	if (cpu_count > 1)
		arm_icr_trap();
}

/* VT-x: INIT and SIPI arrive on the AP itself. On AMD-V an INIT exit
 * means one reached a CPU that runs the guest (the ICR trap is gone once
 * every AP is up): the CPU cannot wait for a SIPI lamina would not see,
 * and the INIT stays pending, so the guest is stopped with the reason. */
void exit_init(struct vcpu *v)
{
	char why[128];

	if (!vendor->wait_for_sipi) {
		format(why, sizeof(why), "it sent INIT to CPU %u while that CPU ran the guest; "
		       "restarting CPUs (offline/online) is not supported on %s yet",
		       v->cpu->index, vendor->name);
		guest_stop(v, why);
	}
	v->state = VCPU_WAIT_SIPI;
	vendor->wait_for_sipi(v);
}

void exit_sipi(struct vcpu *v)
{
	/* STARTING: the SIPI lamina passed on from the ICR trap. */
	if (v->state != VCPU_WAIT_SIPI && v->state != VCPU_STARTING)
		return;
	v->sipi_vector = v->exit.sipi.vector;
	vcpu_start_at_sipi(v, v->sipi_vector);
	note_ap_started(v);
}

/* An AP's life under lamina, after the trampoline. */
void smp_ap_main(struct cpu *c);
void smp_ap_main(struct cpu *c)
{
	arch_cpu_init(c);
	if (vendor->cpu_enable())
		panic("CPU %u: cannot enable %s", c->index, vendor->name);
	struct vcpu *v = vcpu_create(c, nested_root());
	v->state = VCPU_WAIT_INIT;
	if (vendor->wait_for_sipi) {
		vendor->wait_for_sipi(v);
		__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
		vcpu_loop(v);
	}
	apic_cpu_enable(); /* to be woken by VECTOR_WAKE */
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	while (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) != VCPU_STARTING)
		safe_halt();
	apic_cpu_reset(); /* as INIT would have left it */
	vcpu_start_at_sipi(v, v->sipi_vector);
	note_ap_started(v);
	vcpu_loop(v);
}
