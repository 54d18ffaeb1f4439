/* Events for the guest: injection at the next VMRUN, the single-step trap
 * after an instruction lamina completed, and the interrupt shadow such an
 * instruction ends. */
#include <x86/cpu.h>
#include "svm.h"

void svm_inject(struct vcpu *v, enum event_type type, u8 vector, bool has_error,
		u32 error)
{
	struct svm_vcpu *s = v->vendor;

	s->vmcb->ctl.event_inj = vector | ((u64)type << SVM_EVT_TYPE_SHIFT) |
				 (has_error ? SVM_EVT_ERROR_VALID : 0) | SVM_EVT_VALID |
				 ((u64)error << 32);
}

/* The single-step trap after an instruction lamina completed: #DB
 * injected at the next VMRUN, with DR6.BS set as the CPU would have set
 * it (injection leaves DR6 alone). */
void svm_single_step(struct vcpu *v)
{
	struct svm_vcpu *s = v->vendor;

	s->vmcb->save.dr6 |= DR6_BS;
	svm_inject(v, EVENT_EXCEPTION, 1, false, 0);
}

/* An instruction lamina completed for the guest ends the interrupt
 * shadow of an STI or MOV SS before it, as it would have on the CPU;
 * VMRUN would otherwise hold interrupts back for one more instruction. */
void svm_events_before_entry(struct vcpu *v)
{
	struct svm_vcpu *s = v->vendor;

	if (v->rip != s->exit_rip)
		s->vmcb->ctl.int_state &= ~(u64)SVM_INT_SHADOW;
}

void svm_events_after_exit(struct vcpu *v)
{
	struct svm_vcpu *s = v->vendor;

	s->exit_rip = v->rip;
}
