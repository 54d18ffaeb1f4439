/* Events for the guest: injection at the next VMRUN (software interrupts
 * return past their instruction), the single-step trap after an
 * instruction lamina completed, and the interrupt shadow such an
 * instruction ends. */
#include <x86/cpu.h>
#include "svm.h"

/* INT n, INT3 and INTO. AMD-V reports INT3 and INTO as exceptions 3 and
 * 4 (QEMU as software interrupts); nothing else raises those vectors. */
static bool soft_event(enum event_type type, u8 vector)
{
	return type == EVENT_SOFTINT || (type == EVENT_EXCEPTION && (vector == 3 || vector == 4));
}

/* A software interrupt or exception whose delivery an exit interrupted
 * (EXITINTINFO) has RIP still on its instruction, and must return past
 * it. An injected one returns to NextRIP where the CPU has NRIPS (KVM
 * relies on it; Bochs returns to RIP all the same), else to RIP: then
 * RIP moves past the instruction for the VMRUN, and back should the
 * delivery be interrupted again (svm_events_after_exit). An instruction
 * that cannot be read or decoded is not injected: the guest runs it
 * again, which raises the event again. */
static bool set_soft_return(struct vcpu *v, struct svm_vcpu *s)
{
	u64 next;

	if (!vcpu_next_rip(v, &next))
		return false;
	if (svm_has_nrips()) {
		s->vmcb->ctl.next_rip = next;
		return true;
	}
	s->soft_moved = true;
	s->soft_rip = v->rip;
	s->soft_next_rip = next;
	v->rip = next;
	return true;
}

void svm_inject(struct vcpu *v, enum event_type type, u8 vector, bool has_error,
		u32 error)
{
	struct svm_vcpu *s = v->vendor;

	if (type == EVENT_NMI)
		return svm_nmi_queue(s); /* svm_nmi_before_entry injects it */
	if (soft_event(type, vector) && !set_soft_return(v, s))
		return;
	s->vmcb->ctl.event_inj = vector | ((u64)type << SVM_EVT_TYPE_SHIFT) |
				 (has_error ? SVM_EVT_ERROR_VALID : 0) | SVM_EVT_VALID |
				 ((u64)error << 32);
}

/* #DB injected at the next VMRUN, with the DR6 bits the CPU would have
 * set (injection leaves DR6 alone). */
void svm_debug_trap(struct vcpu *v, u64 dr6)
{
	struct svm_vcpu *s = v->vendor;

	s->vmcb->save.dr6 = dr6_after_trap(s->vmcb->save.dr6, dr6);
	svm_inject(v, EVENT_EXCEPTION, 1, false, 0);
}

/* The interrupt shadow ends. The guest's NMI blocking is svm_nmi.c's,
 * and AMD-V runs task switches without lamina (so nothing calls this
 * yet, and an IRET that switches tasks ends the blocking there). */
void svm_set_blocking(struct vcpu *v, enum nmi_blocking nmi)
{
	struct svm_vcpu *s = v->vendor;

	s->vmcb->ctl.int_state &= ~(u64)SVM_INT_SHADOW;
}

/* An instruction lamina completed for the guest ends the interrupt
 * shadow of an STI or MOV SS before it, as it would have on the CPU;
 * VMRUN would otherwise hold interrupts back for one more instruction. */
void svm_events_before_entry(struct vcpu *v)
{
	struct svm_vcpu *s = v->vendor;

	if (v->rip != s->exit_rip)
		s->vmcb->ctl.int_state &= ~(u64)SVM_INT_SHADOW;
	svm_nmi_before_entry(v, s);
}

void svm_events_after_exit(struct vcpu *v)
{
	struct svm_vcpu *s = v->vendor;

	if (s->soft_moved && v->exit.event_pending && v->rip == s->soft_next_rip)
		v->rip = s->soft_rip;
	s->soft_moved = false;
	svm_nmi_after_exit(v, s);
	s->exit_rip = v->rip;
}
