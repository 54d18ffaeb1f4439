/* Private to the AMD-V back end. */
#ifndef SVM_SVM_H
#define SVM_SVM_H

#include <core/vcpu.h>
#include "vmcb.h"

struct svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	struct vmcb *host_vmcb; /* lamina's FS/GS/TR... while the guest runs */
	u64 host_vmcb_pa;
	u64 host_cr4;
	u64 exit_rip;           /* guest RIP at the last #VMEXIT */
	bool soft_moved;        /* RIP moved past a software event's instruction */
	u64 soft_rip, soft_next_rip; /* from where, to where */
	struct svm_nmi {        /* svm_nmi.c */
		bool queued;    /* an NMI for the guest, not yet injected */
		bool blocked;   /* in its NMI handler: injected, no IRET yet */
		bool iret_next; /* an IRET exit came: that IRET runs next */
		bool stepping;  /* lamina set TF to trap after it */
		bool guest_tf;  /* the guest's own TF then */
		u64 iret_rip;   /* where the IRET is */
		/* As before the step: */
		u64 dr6, dr7, tr_base, cr3;
		u16 tr_attr;
	} nmi;
};

extern struct pt_format npt_format;
void svm_run(struct vcpu *v);
bool svm_has_nrips(void);
void svm_enter(u64 *gprs, u64 guest_vmcb_pa, u64 host_vmcb_pa);
/* svm_state.c */
void svm_set_seg(struct vcpu *v, enum x86_seg seg, const struct segment *in);
void svm_get_sys_seg(struct vcpu *v, enum guest_sys_seg s, struct segment *out);
void svm_set_sys_seg(struct vcpu *v, enum guest_sys_seg s, const struct segment *in);
int svm_set_cr(struct vcpu *v, enum guest_reg r, u64 val);

/* svm_event.c */
void svm_inject(struct vcpu *v, enum event_type type, u8 vector, bool has_error,
		u32 error);
void svm_debug_trap(struct vcpu *v, u64 dr6);
void svm_set_blocking(struct vcpu *v, enum nmi_blocking nmi);
void svm_events_before_entry(struct vcpu *v);
void svm_events_after_exit(struct vcpu *v);
/* svm_nmi.c */
void svm_nmi_queue(struct svm_vcpu *s);
void svm_nmi_reset(struct svm_vcpu *s);
void svm_nmi_before_entry(struct vcpu *v, struct svm_vcpu *s);
void svm_nmi_after_exit(struct vcpu *v, struct svm_vcpu *s);

#endif
