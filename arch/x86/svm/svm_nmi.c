/* The guest's NMI blocking. An NMI the CPU delivers itself blocks further
 * NMIs until the next IRET; one injected through EVENTINJ does not (APM
 * Vol. 2 15.20; a CPU with NMI virtualization would, QEMU's and Bochs's
 * have none). lamina intercepts NMIs to stay in control, so it holds the
 * guest's next one itself: from the injection, IRET is intercepted; its
 * exit comes before the IRET runs, so the NMI blocking ends once the
 * guest has gone on from there. An NMI waiting meanwhile must come right
 * after that IRET, as it would on the CPU: lamina sets RFLAGS.TF for the
 * IRET alone and takes the single-step #DB (intercepted anyway, see
 * vcpu_reflect_exception) as its NMI window. */
#include <x86/cpu.h>
#include <x86/emulate.h>
#include "svm.h"

static void intercept_iret(struct svm_vcpu *s, bool on)
{
	if (on)
		s->vmcb->ctl.intercept_misc1 |= SVM_INTERCEPT_IRET;
	else
		s->vmcb->ctl.intercept_misc1 &= ~SVM_INTERCEPT_IRET;
}

static void unblock(struct svm_vcpu *s)
{
	s->nmi.blocked = s->nmi.iret_next = s->nmi.stepping = false;
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

/* Inject a queued NMI the guest can take now, or make the IRET that
 * ends its blocking trap. An event injected first (an exception the
 * exit interrupted) is delivered before the IRET runs: the IRET will
 * exit again, as may one in that event's handler (any IRET ends NMI
 * blocking on the CPU). */
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
	if (!n->iret_next)
		return;
	if (injecting) {
		n->iret_next = n->stepping = false;
		intercept_iret(s, true);
		return;
	}
	if (n->queued && !n->stepping) {
		n->stepping = true;
		n->guest_tf = v->rflags & RFLAGS_TF;
		n->dr6 = s->vmcb->save.dr6;
		v->rflags |= RFLAGS_TF;
	}
}

/* The single-step #DB after the IRET: the guest's own if it was
 * single-stepping, or if a data breakpoint struck in the IRET's pops
 * (without lamina's BS), else lamina's alone, and DR6 is as before. */
static void step_trap(struct vcpu *v, struct svm_vcpu *s)
{
	struct vmcb_save *g = &s->vmcb->save;

	if (s->nmi.guest_tf)
		return;
	if (g->dr6 & x86_data_breakpoints_armed(g->dr7)) {
		g->dr6 = (g->dr6 & ~DR6_BS) | (s->nmi.dr6 & DR6_BS);
		return;
	}
	g->dr6 = s->nmi.dr6;
	v->exit.reason = LAMINA_EXIT_NMI; /* nothing left to do */
}

/* After every exit, before anything else looks at it. */
void svm_nmi_after_exit(struct vcpu *v, struct svm_vcpu *s)
{
	struct svm_nmi *n = &s->nmi;
	const struct vm_exit *e = &v->exit;

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
	if (v->rip == n->iret_rip) {
		/* The IRET has not run (an exit before it, or it faulted):
		 * no TF of lamina's may reach the guest. */
		if (n->stepping && !n->guest_tf)
			v->rflags &= ~RFLAGS_TF;
		n->stepping = false;
		return;
	}
	if (n->stepping && e->vendor_code == SVM_EXIT_EXCP_BASE + X86_EXC_DB)
		step_trap(v, s);
	unblock(s);
}
