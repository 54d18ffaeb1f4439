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
 *    on.
 * Once every AP runs the guest, the trap is removed: no APIC exits in the
 * steady state. It comes back while a CPU may be offline (WBINVD with
 * interrupts off, smp_cpu_may_go_offline; both vendors): an INIT the guest
 * sends to a CPU that runs the guest is then dropped too, the CPU is
 * kicked into lamina with an NMI and waits there for its SIPI, like an AP
 * at boot on AMD-V. An INIT that reaches a running CPU anyway exits there
 * (exit_init). */
#include <core/exit_handlers.h>
#include <core/log.h>
#include <core/mmio.h>
#include <core/nested.h>
#include <core/panic.h>
#include <core/smp.h>
#include <core/spinlock.h>
#include <core/suspend.h>
#include <core/time.h>
#include <x86/apic.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>
#include <x86/paging.h>

static volatile bool icr_trap_on;
static bool cpus_outside;
static volatile bool trap_review; /* a reason to keep the trap may be gone */
static spinlock_t trap_lock = SPINLOCK_INIT;
static bool released_once;
static volatile u32 *real_apic;

static void update_icr_trap(void);
static void update_icr_trap_locked(void);

/* The other CPUs held in lamina (a sleep state on its way, core/suspend.c):
 * each leaves the guest, or its wait for SIPI, writes back its caches
 * (a sleep drops them; WBINVD reaches only its own CPU's) and spins until
 * released. */
static struct cpu *volatile holder;
static volatile u32 held;

/* Make CPU c leave the guest (or lamina's own code) once: the NMI exits,
 * and nmi_handle() knows it for lamina's. */
static void kick(struct cpu *c)
{
	__atomic_store_n(&c->kicked, true, __ATOMIC_RELEASE);
	apic_send_ipi(c->apic_id, ICR_DM_NMI);
}

/* Make this CPU exit as soon as the guest runs again: on AMD-V, where
 * GIF holds the NMI in lamina, right after VMRUN has delivered the event
 * it injects. */
void smp_kick_self(void)
{
	kick(this_cpu());
}

/* An NMI that found this CPU in lamina may have come after the checks
 * before its next entry, which then miss it: a kick's INIT or nested
 * page-table change (smp_before_entry, nested_sync), or the guest's own
 * NMI (the back end's NMI-window decision). The back end makes that entry
 * exit at once, so the checks run again. */
void smp_nmi_taken_in_lamina(void)
{
	struct vcpu *v = this_vcpu();

	if (v && vendor && vendor->nmi_missed)
		vendor->nmi_missed(v);
}

static void held_here(void)
{
	struct cpu *h = __atomic_load_n(&holder, __ATOMIC_ACQUIRE);

	if (!h || h == this_cpu())
		return;
	wbinvd();
	__atomic_fetch_add(&held, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&holder, __ATOMIC_ACQUIRE))
		cpu_relax();
	__atomic_fetch_sub(&held, 1, __ATOMIC_SEQ_CST);
}

/* Which CPUs could run the guest, or start to: all online ones but a
 * stopped vCPU's, which halts for good. */
static unsigned int kick_holdable(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < cpu_count; i++) {
		struct cpu *c = cpus[i];
		if (c == this_cpu() || !c->online || !c->vcpu || c->vcpu->state == VCPU_STOPPED)
			continue;
		kick(c);
		n++;
	}
	return n;
}

bool smp_hold_others(u64 timeout_ns)
{
	u64 deadline = time_ns() + timeout_ns, again = 0;
	unsigned int want = 0;

	__atomic_store_n(&holder, this_cpu(), __ATOMIC_SEQ_CST);
	/* Kicked again now and then: a CPU waiting for its SIPI can take the
	 * NMI between its look at holder and its HLT. */
	while (__atomic_load_n(&held, __ATOMIC_SEQ_CST) < want || !again) {
		u64 now = time_ns();
		if (now >= deadline) {
			smp_release_others();
			return false;
		}
		if (now >= again) {
			want = kick_holdable();
			again = now + 50000000;
		}
		cpu_relax();
	}
	return true;
}

void smp_release_others(void)
{
	__atomic_store_n(&holder, NULL, __ATOMIC_SEQ_CST);
}

static void note_ap_started(struct vcpu *v)
{
	log_info("the guest started CPU %u (APIC ID %u) at %04x:0000",
		 v->cpu->index, v->cpu->apic_id, (unsigned int)v->sipi_vector << 8);
	update_icr_trap();
}

static struct vcpu *vcpu_by_apic_id(u32 id)
{
	for (unsigned int i = 0; i < cpu_count; i++)
		if (cpus[i] && cpus[i]->apic_id == id)
			return cpus[i]->vcpu;
	return NULL;
}

/* INIT to a vCPU that runs the guest (one the guest took offline, as a
 * rule): it takes effect at once, and the CPU is brought into lamina to
 * wait for its SIPI there (smp_before_entry). */
static void init_running(struct vcpu *t)
{
	t->restarting = true;
	__atomic_store_n(&t->state, VCPU_WAIT_SIPI, __ATOMIC_RELEASE);
	kick(t->cpu);
}

/* INIT or SIPI from the guest to one vCPU, seen on the sender. */
static void deliver(struct vcpu *t, u32 icr)
{
	if (!t)
		return;
	if ((icr & ICR_DM_MASK) == ICR_DM_INIT) {
		if (t->state == VCPU_WAIT_INIT)
			t->state = VCPU_WAIT_SIPI;
		else if (t->state == VCPU_RUNNING)
			init_running(t);
		return;
	}
	/* An AP waiting for SIPI in guest mode (VT-x) gets every SIPI itself
	 * (the trap only keeps the guest's INIT from it): the second one too,
	 * in case the first came before the CPU was back in the wait-for-SIPI
	 * state (after exit_init), where a SIPI is lost, as on hardware a
	 * second SIPI makes up for a first one that came too early. */
	bool in_guest = !t->restarting && vendor->wait_for_sipi;
	if (t->state == VCPU_STARTING && in_guest) {
		apic_send_ipi(t->cpu->apic_id, ICR_DM_SIPI | t->sipi_vector);
		return;
	}
	if (t->state != VCPU_WAIT_SIPI)
		return; /* the second SIPI, or one without INIT: ignored as by hardware */
	t->sipi_vector = ICR_VECTOR(icr);
	__atomic_store_n(&t->state, VCPU_STARTING, __ATOMIC_SEQ_CST);
	/* One halted in lamina is woken (it set parked before it looked at
	 * the state; taking parked tells it a wake-up is coming); one on its
	 * way there (restarting) will see STARTING. */
	if (__atomic_exchange_n(&t->parked, false, __ATOMIC_SEQ_CST))
		apic_send_ipi(t->cpu->apic_id, ICR_DM_FIXED | VECTOR_WAKE);
	else if (in_guest)
		apic_send_ipi(t->cpu->apic_id, ICR_DM_SIPI | t->sipi_vector);
}

/* Any APIC write from a vCPU shows it runs: it is not offline. */
static void note_alive(struct vcpu *v)
{
	if (v->maybe_offline) {
		v->maybe_offline = false;
		__atomic_store_n(&trap_review, true, __ATOMIC_RELEASE);
	}
}

bool smp_guest_icr_write(struct vcpu *v, u32 dest, u32 icr)
{
	u32 dm = icr & ICR_DM_MASK;

	if (!icr_trap_on)
		return false;
	note_alive(v);
	if (dm != ICR_DM_INIT && dm != ICR_DM_SIPI)
		return false;
	/* INIT level de-assert (old APICs): nothing to do. */
	if (dm == ICR_DM_INIT && !(icr & ICR_LEVEL_ASSERT))
		return true;
	u32 shorthand = icr & ICR_SHORTHAND_MASK;
	if (!shorthand && dest == ~0u && !(icr & BIT(11)))
		shorthand = ICR_ALL; /* the physical broadcast ID */
	if (shorthand == ICR_SELF)
		return true; /* INIT/SIPI to self is invalid: dropped */
	if (!shorthand && (icr & BIT(11))) {
		static struct log_limit logical = LOG_LIMIT("logical INIT/SIPI");

		if (log_limit_pass(&logical))
			log_warn("guest INIT/SIPI with a logical destination: not supported, "
				 "dropped");
		return true;
	}
	/* Under the trap's lock, and the trap reviewed after: a review
	 * between an INIT and its SIPI must see the INIT's state change, or
	 * it could drop the trap and the SIPI would go past lamina. */
	spin_lock(&trap_lock);
	if (!shorthand) {
		deliver(vcpu_by_apic_id(dest), icr);
	} else {
		for (unsigned int i = 0; i < cpu_count; i++)
			if (cpus[i] && cpus[i]->vcpu != v)
				deliver(cpus[i]->vcpu, icr);
	}
	update_icr_trap_locked();
	spin_unlock(&trap_lock);
	return true;
}

void smp_guest_apic_write(struct vcpu *v)
{
	if (icr_trap_on)
		note_alive(v);
}

/* The xAPIC page while the trap is on: reads pass, writes come here (and
 * the read half of an emulated read-modify-write). */
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
	note_alive(v);
	u32 dest = real_apic[APIC_ICR_HI / 4] >> 24;
	if (reg == APIC_ICR_LO && smp_guest_icr_write(v, dest == 0xff ? ~0u : dest, val))
		return;
	real_apic[reg / 4] = val;
}

static const struct mmio_ops apic_page_ops = { apic_page_read, apic_page_write };
static struct mmio_region apic_page = {
	.name = "local APIC", .size = PAGE_SIZE, .ops = &apic_page_ops, .trap_reads = false,
};

/* The trap is needed while a vCPU waits for INIT/SIPI or may be offline,
 * and for good when a CPU is outside lamina. */
static bool icr_trap_needed(void)
{
	if (cpus_outside)
		return true;
	for (unsigned int i = 0; i < cpu_count; i++) {
		struct vcpu *v = cpus[i] ? cpus[i]->vcpu : NULL;
		if (!v)
			continue;
		if (v->maybe_offline ||
		    (v->state != VCPU_RUNNING && v->state != VCPU_STOPPED))
			return true;
	}
	return false;
}

/* The xAPIC page write-trapped and the x2APIC ICR and EOI MSRs
 * intercepted, or neither. */
static void set_icr_trap(bool on)
{
	if (on && !real_apic) {
		apic_page.base = apic_base_pa();
		real_apic = io_map(apic_page.base, PAGE_SIZE);
	}
	icr_trap_on = on;
	if (on)
		mmio_register(&apic_page);
	else
		mmio_unregister(&apic_page);
	vendor->intercept_msr(MSR_X2APIC_ICR, false, on);
	vendor->intercept_msr(MSR_X2APIC_EOI, false, on);
}

static void update_icr_trap(void)
{
	spin_lock(&trap_lock);
	update_icr_trap_locked();
	spin_unlock(&trap_lock);
}

static void update_icr_trap_locked(void)
{
	__atomic_store_n(&trap_review, false, __ATOMIC_RELEASE);
	bool need = icr_trap_needed();
	if (need && !icr_trap_on) {
		set_icr_trap(true);
		log_debug("APIC intercepts on: a CPU may be going offline");
		/* Every CPU leaves the guest once, so that none sends INIT
		 * through a stale nested TLB entry of the APIC page. */
		for (unsigned int i = 0; i < cpu_count; i++)
			if (cpus[i] && cpus[i] != this_cpu() && cpus[i]->online)
				kick(cpus[i]);
	} else if (!need && icr_trap_on) {
		set_icr_trap(false);
		if (!released_once)
			log_info("every AP runs the guest: APIC intercepts dropped");
		else
			log_debug("every CPU runs the guest: APIC intercepts dropped");
		released_once = true;
	}
}

bool smp_all_aps_started(void)
{
	for (unsigned int i = 0; i < cpu_count; i++)
		if (cpus[i] && cpus[i]->vcpu && cpus[i]->vcpu->state != VCPU_RUNNING)
			return false;
	return true;
}

void smp_prepare_guest(void)
{
	/* Both vendors need the trap: AMD-V has no SIPI exit, and on VT-x an
	 * INIT must not reach an AP waiting for SIPI in guest mode (it would
	 * stay pending and strike after the SIPI; Bochs 2.7 keeps it for good,
	 * see arch/x86/vmx/vmx.c). */
	if (cpus_outside)
		log_warn("not every CPU of this machine is under lamina (see above): the guest's "
			 "INIT and SIPI to those are dropped, and APIC intercepts stay on (each "
			 "IPI the guest sends costs an exit)");
	if (cpu_count > 1 || cpus_outside)
		set_icr_trap(true);
}

void smp_note_cpu_outside(void)
{
	cpus_outside = true;
}

/* WBINVD with interrupts off is how Linux (hlt_play_dead) and other
 * systems leave a CPU they take offline; bringing it back takes INIT-SIPI
 * again, which on AMD-V lamina sees only through the trap (an INIT that
 * reaches the CPU itself resets it on QEMU, out of lamina's hands). So
 * the trap comes back until the CPU shows it runs (an APIC write) or has
 * been restarted. */
void smp_cpu_may_go_offline(struct vcpu *v)
{
	if (cpu_count < 2 || v->maybe_offline)
		return;
	v->maybe_offline = true;
	update_icr_trap();
}

/* Wait in lamina, interrupts open, until the guest's SIPI for v. A sender
 * that took parked sends VECTOR_WAKE: that interrupt is waited for here,
 * rather than left to strike later, in the guest. Whatever else the guest
 * sends this CPU meanwhile (an IPI, an MSI, an ExtINT, on any vector) is
 * taken and dropped, as an APIC that INIT disabled would not accept it
 * (arch/x86/exceptions.c). */
static void wait_for_start(struct vcpu *v)
{
	u32 wakes = __atomic_load_n(&v->cpu->wakes, __ATOMIC_ACQUIRE);

	apic_cpu_reset(); /* the guest's LVTs masked, as INIT leaves them */
	apic_cpu_enable(); /* to be woken by VECTOR_WAKE */
	if (vendor->host_interrupts)
		vendor->host_interrupts(true);
	__atomic_store_n(&v->parked, true, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&v->state, __ATOMIC_SEQ_CST) != VCPU_STARTING) {
		held_here();
		halt_for_interrupt();
	}
	if (!__atomic_exchange_n(&v->parked, false, __ATOMIC_SEQ_CST))
		while (__atomic_load_n(&v->cpu->wakes, __ATOMIC_ACQUIRE) == wakes)
			halt_for_interrupt();
	if (vendor->host_interrupts)
		vendor->host_interrupts(false);
	apic_cpu_reset(); /* as INIT would have left it */
}

/* Before each entry: an INIT the guest sent this vCPU while it ran, and
 * the trap's upkeep. */
void smp_before_entry(struct vcpu *v)
{
	suspend_before_entry(v);
	held_here();
	if (v->restarting) {
		log_info("the guest sent INIT to CPU %u: it waits for SIPI in lamina",
			 v->cpu->index);
		v->maybe_offline = false;
		v->cpu->nmi_pending = false; /* INIT drops what was pending */
		wait_for_start(v);
		v->restarting = false;
		vcpu_start_at_sipi(v, v->sipi_vector);
		note_ap_started(v);
	}
	if (__atomic_load_n(&trap_review, __ATOMIC_ACQUIRE))
		update_icr_trap();
}

/* An INIT that reached a CPU running the guest. VT-x: the CPU waits for
 * SIPI in guest mode. AMD-V: the trap was off (the guest took the CPU
 * offline without the WBINVD lamina watches for, or parks it on its way
 * to a reboot). By the APM the INIT stays pending while GIF is 0 and
 * strikes at the next VMRUN, so this CPU cannot run the guest again: it
 * halts in lamina, and the rest of the guest runs on (a later attempt to
 * start it fails in the guest as with a dead CPU). QEMU resets the CPU
 * before this runs; Bochs holds the INIT as the APM says. */
void exit_init(struct vcpu *v)
{
	if (!vendor->wait_for_sipi) {
		log_warn("the guest sent INIT to CPU %u while that CPU ran the guest (not parked "
			 "with WBINVD first): %s cannot restart it, it halts in lamina; the "
			 "other CPUs run on", v->cpu->index, vendor->name);
		v->state = VCPU_STOPPED; /* vcpu_loop parks it */
		return;
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

/* v's CPU came back from a sleep state (S2/S3), reset, and the guest
 * starts over: nothing of before the sleep is pending. */
void smp_vcpu_woken(struct vcpu *v)
{
	vendor->vcpu_wake(v);
	v->restarting = false;
	v->parked = false;
	v->maybe_offline = false;
	v->cpu->nmi_pending = false;
	v->cpu->kicked = false;
}

/* On the boot CPU after a sleep state, before the APs start again: the
 * CPUs that were held were reset in the sleep, none holds now. */
void smp_wake_unhold(void)
{
	__atomic_store_n(&held, 0, __ATOMIC_SEQ_CST);
	smp_release_others();
}

/* Every AP back in lamina waiting for INIT: the trap on again to see the
 * guest start them. */
void smp_wake_done(void)
{
	update_icr_trap();
}

void smp_ap_main(struct cpu *c)
{
	arch_cpu_init(c);
	if (vendor->cpu_enable())
		panic("CPU %u: cannot enable %s", c->index, vendor->name);
	struct vcpu *v = c->vcpu; /* there already after a sleep state */
	if (v)
		smp_vcpu_woken(v);
	else
		v = vcpu_create(c, nested_root());
	v->state = VCPU_WAIT_INIT;
	if (vendor->wait_for_sipi) {
		vendor->wait_for_sipi(v);
		__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
		vcpu_loop(v);
	}
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	wait_for_start(v);
	vcpu_start_at_sipi(v, v->sipi_vector);
	note_ap_started(v);
	vcpu_loop(v);
}
