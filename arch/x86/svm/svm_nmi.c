/* The guest's NMI blocking. An NMI the CPU delivers itself blocks further
 * NMIs until the next IRET; one injected through EVENTINJ does not (APM
 * Vol. 2 15.20; a CPU with NMI virtualization would, QEMU's and Bochs's
 * have none). lamina intercepts NMIs to stay in control, so it holds the
 * guest's next one itself: from the injection, IRET is intercepted; its
 * exit comes before the IRET runs, and the blocking ends once the guest
 * has gone on from there (any IRET ends it on the CPU, also one of a
 * handler that interrupted the NMI handler).
 *
 * An NMI waiting meanwhile must come right after that IRET, as on the
 * CPU: lamina sets RFLAGS.TF for the IRET alone and takes the single-step
 * #DB (intercepted anyway, see vcpu_reflect_exception) as its NMI window.
 * That TF must not reach the guest: for that one entry the exceptions an
 * IRET can raise and external interrupts exit too, and any exit before
 * the IRET has run takes the TF back (the IRET exits again later); an
 * IRET that switches tasks saves it into the old TSS, where lamina clears
 * it; and the #DB's DR6 and DR7.GD are put back.
 *
 * An NMI that waits only because another event is injected at this entry
 * needs an exit right after that event: a kick to this CPU, which GIF
 * holds until VMRUN has delivered the event. */
#include <core/guest_mem.h>
#include <core/smp.h>
#include <x86/cpu.h>
#include <x86/emulate.h>
#include "svm.h"

#define TSS_TYPE_32BIT 0x8 /* in the descriptor type; busy or not (QEMU keeps TR's clear) */
/* #TS #NP #SS #PF and external interrupts: intercepted for the step's
 * entry only, and by nothing else (svm.c), so end_step simply clears them. */
#define STEP_EXCEPTIONS (BIT(10) | BIT(11) | BIT(12) | BIT(14))

static void intercept_iret(struct svm_vcpu *s, bool on)
{
	if (on)
		s->vmcb->ctl.intercept_misc1 |= SVM_INTERCEPT_IRET;
	else
		s->vmcb->ctl.intercept_misc1 &= ~SVM_INTERCEPT_IRET;
}

static void start_step(struct vcpu *v, struct svm_vcpu *s)
{
	struct svm_nmi *n = &s->nmi;
	struct vmcb_control *c = &s->vmcb->ctl;

	n->stepping = true;
	n->guest_tf = v->rflags & RFLAGS_TF;
	n->dr6 = s->vmcb->save.dr6;
	n->dr7 = s->vmcb->save.dr7;
	n->tr_base = s->vmcb->save.tr.base;
	n->tr_attr = s->vmcb->save.tr.attr;
	n->cr3 = s->vmcb->save.cr3;
	c->intercept_exc |= STEP_EXCEPTIONS;
	c->intercept_misc1 |= SVM_INTERCEPT_INTR;
	v->rflags |= RFLAGS_TF;
}

static void end_step(struct svm_vcpu *s)
{
	struct vmcb_control *c = &s->vmcb->ctl;

	if (!s->nmi.stepping)
		return;
	s->nmi.stepping = false;
	c->intercept_exc &= ~(u32)STEP_EXCEPTIONS;
	c->intercept_misc1 &= ~(u32)SVM_INTERCEPT_INTR;
}

static void unblock(struct svm_vcpu *s)
{
	end_step(s);
	s->nmi.blocked = s->nmi.iret_next = false;
	intercept_iret(s, false);
}

void svm_nmi_reset(struct svm_vcpu *s)
{
	unblock(s);
	s->nmi.queued = false;
}

void svm_nmi_queue(struct svm_vcpu *s)
{
	s->nmi.queued = true;
}

/* Inject a queued NMI the guest can take now, or make sure an exit comes
 * when it can. An event injected first (an exception the exit
 * interrupted) is delivered before the IRET runs: the IRET will exit
 * again, as may one in that event's handler. */
void svm_nmi_before_entry(struct vcpu *v, struct svm_vcpu *s)
{
	struct svm_nmi *n = &s->nmi;
	bool injecting = s->vmcb->ctl.event_inj & SVM_EVT_VALID;

	if (n->queued && !n->blocked && !injecting) {
		s->vmcb->ctl.event_inj = 2 | (u64)EVENT_NMI << SVM_EVT_TYPE_SHIFT | SVM_EVT_VALID;
		n->queued = false;
		n->blocked = true;
		intercept_iret(s, true);
		return;
	}
	if (n->iret_next && injecting) {
		n->iret_next = false;
		intercept_iret(s, true);
	}
	/* lamina's own NMI not yet queued: one that came while an event was
	 * being delivered again (vcpu_loop queues it only after). */
	if (!n->queued && !v->cpu->nmi_pending)
		return;
	if (!n->blocked)
		smp_kick_self();
	else if (n->iret_next && !n->stepping)
		start_step(v, s);
}

/* An IRET that switched tasks saved EFLAGS, lamina's TF with it, into the
 * old task's TSS (32-bit: at 0x24; 16-bit: FLAGS at 0x10), through the
 * old task's page tables: the CPU saves the old state before it loads the
 * new CR3 (SDM Vol. 3A 7.3). The walk takes the guest's CR3 from the
 * VMCB, so the old one stands there for the copy. */
static void clear_tf_in_old_tss(struct vcpu *v, struct svm_vcpu *s)
{
	const struct svm_nmi *n = &s->nmi;
	u64 at = n->tr_base + (n->tr_attr & TSS_TYPE_32BIT ? 0x24 : 0x10);
	u64 new_cr3 = s->vmcb->save.cr3;
	struct emu_fault f;
	u16 flags;

	s->vmcb->save.cr3 = n->cr3;
	if (!guest_copy_system(v, at, &flags, sizeof(flags), false, &f)) {
		flags &= ~(u16)RFLAGS_TF;
		guest_copy_system(v, at, &flags, sizeof(flags), true, &f);
	}
	s->vmcb->save.cr3 = new_cr3;
}

/* The single-step #DB after the IRET: also the guest's if it was
 * single-stepping, or if a data breakpoint struck in the IRET's pops or
 * the new task's T bit was set (then without lamina's BS); else lamina's
 * alone, and DR6 and DR7.GD are as they were. */
static void step_trap(struct vcpu *v, struct svm_vcpu *s)
{
	struct vmcb_save *g = &s->vmcb->save;
	const struct svm_nmi *n = &s->nmi;
	u64 fresh = g->dr6 & ~n->dr6;

	if (n->guest_tf)
		return;
	if ((fresh & x86_data_breakpoints_armed(n->dr7)) || (fresh & DR6_BT)) {
		g->dr6 = (g->dr6 & ~DR6_BS) | (n->dr6 & DR6_BS);
		return;
	}
	g->dr6 = n->dr6;
	g->dr7 |= n->dr7 & DR7_GD;
	v->exit.reason = LAMINA_EXIT_NMI; /* nothing left to do */
}

/* After every exit, before anything else looks at it. */
void svm_nmi_after_exit(struct vcpu *v, struct svm_vcpu *s)
{
	struct svm_nmi *n = &s->nmi;
	const struct vm_exit *e = &v->exit;
	bool stepped = n->stepping;

	/* An NMI whose delivery the exit cut short goes in again. */
	if (e->event_pending && e->event_type == EVENT_NMI)
		return unblock(s);
	if (e->vendor_code == SVM_EXIT_IRET) {
		intercept_iret(s, false);
		n->iret_next = true;
		n->iret_rip = v->rip;
		return;
	}
	if (!n->iret_next)
		return;
	end_step(s);
	if (v->rip == n->iret_rip) {
		/* The IRET has not run (an exit before it, or it faulted):
		 * it exits again when it does. */
		if (stepped && !n->guest_tf)
			v->rflags &= ~RFLAGS_TF;
		n->iret_next = false;
		intercept_iret(s, true);
		return;
	}
	if (stepped && !n->guest_tf && s->vmcb->save.tr.base != n->tr_base)
		clear_tf_in_old_tss(v, s);
	if (stepped && e->vendor_code == SVM_EXIT_EXCP_BASE + X86_EXC_DB)
		step_trap(v, s);
	unblock(s);
}
