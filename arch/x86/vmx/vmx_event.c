/* Events for the guest: injection at the next entry, the single-step trap
 * after an instruction lamina completed, NMIs held back while the guest
 * cannot take one (virtual-NMI blocking, or the shadow of STI / MOV SS),
 * and the event an exit interrupted. */
#include <x86/cpu.h>
#include "vmx.h"

#define INTR_INFO(type, vector) (VMX_INTR_VALID | (u32)(type) << 8 | (vector))
#define BLOCKS_NMI (VMX_BLOCK_STI | VMX_BLOCK_MOVSS | VMX_BLOCK_NMI)

void vmx_inject(struct vcpu *v, enum event_type type, u8 vector, bool has_error,
		u32 error)
{
	struct vmx_vcpu *x = v->vendor;
	u32 info = INTR_INFO(type, vector);

	/* A CPU waiting for SIPI takes no events (nor may VM entry inject one). */
	if (x->waiting_sipi)
		return;
	if (type == EVENT_NMI) {
		x->nmi_queued = true; /* vmx_events_before_entry delivers it */
		return;
	}
	/* core/vcpu.c asks for none in real mode, where VM entry forbids it. */
	if (has_error) {
		info |= VMX_INTR_ERROR_VALID;
		vmwrite(VMCS_ENTRY_EXC_ERROR, error);
	}
	/* Software interrupts and exceptions (INT n, INT3, INTO, INT1) that
	 * an exit interrupted: the guest resumes after the instruction. */
	if (type >= EVENT_SOFTINT)
		vmwrite(VMCS_ENTRY_INSN_LEN, x->event_insn_len);
	/* In HLT only interrupts and NMIs may be injected; the rest means
	 * the guest was running anyway. */
	if (type != EVENT_EXTINT && vmread(VMCS_GUEST_ACTIVITY) == VMX_ACTIVITY_HLT)
		vmwrite(VMCS_GUEST_ACTIVITY, VMX_ACTIVITY_ACTIVE);
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	x->event_set = true;
}

/* A #DB after something lamina completed. The single-step trap is
 * pending at the next entry (BS in the pending debug exceptions; the CPU
 * sets DR6.BS when it delivers the #DB). It is that entry's event: one
 * injected as well would drop it (a vectoring entry ignores pending debug
 * exceptions), so a held NMI waits for its window, which the #DB goes
 * before. No pending bit says BT (a task switch's T bit): that #DB is
 * injected, with DR6 set here, as injection leaves it alone. The guest's
 * DR6 is the CPU's own while lamina runs: VM exits keep it, and lamina
 * uses no debug registers. */
void vmx_debug_trap(struct vcpu *v, u64 dr6)
{
	struct vmx_vcpu *x = v->vendor;

	if (dr6 != DR6_BS) {
		write_dr6(dr6_after_trap(read_dr6(), dr6));
		return vmx_inject(v, EVENT_EXCEPTION, 1, false, 0); /* #DB */
	}
	vmwrite(VMCS_GUEST_PENDING_DBG, vmread(VMCS_GUEST_PENDING_DBG) | VMX_PENDING_DBG_BS);
	x->event_set = true;
}

/* A #DB exit leaves DR6 and DR7 as they were (SDM Vol. 3C 28.1): do
 * what delivering the #DB does first. The exit qualification has the
 * conditions: B0-B3 replace the old ones, BD and BS are added, and after
 * a general-detect condition DR7.GD clears, so that the handler may use
 * the debug registers. INT1 (ICEBP) changes neither; the exit comes
 * before it as before any instruction. With RFLAGS.TF (stepping not
 * limited to branches) in the shadow of an STI or MOV SS, VM entry wants
 * a single step pending (Vol. 3C 27.3.1.5), which this exit left clear;
 * the injected #DB goes first either way. */
void vmx_debug_exit(struct vcpu *v, u32 info)
{
	u64 q = vmread(VMCS_EXIT_QUALIFICATION);

	if (VMX_INTR_TYPE(info) == VMX_INTR_TYPE_PRIV_SW) {
		v->exit.exception.int1_len = (u8)vmread(VMCS_EXIT_INSN_LEN);
		return;
	}
	write_dr6((read_dr6() & ~DR6_BREAKPOINTS) | (q & (DR6_BREAKPOINTS | DR6_BD | DR6_BS)));
	if (q & DR6_BD)
		vmwrite(VMCS_GUEST_DR7, vmread(VMCS_GUEST_DR7) & ~(u64)DR7_GD);
	if ((v->rflags & RFLAGS_TF) && !(vmread(VMCS_GUEST_DEBUGCTL) & DEBUGCTL_BTF) &&
	    (vmread(VMCS_GUEST_INTERRUPTIBILITY) & (VMX_BLOCK_STI | VMX_BLOCK_MOVSS)))
		vmwrite(VMCS_GUEST_PENDING_DBG,
			vmread(VMCS_GUEST_PENDING_DBG) | VMX_PENDING_DBG_BS);
}

/* A task switch lamina completed: the interrupt shadow of an STI or MOV
 * SS ends (VM entry refuses blocking by STI with RFLAGS.IF clear, and
 * the switch may land where the exit was). After an IRET so does
 * virtual-NMI blocking, which the CPU ends only once the IRET completes
 * (the task-switch exit comes before). An NMI delivered through a task
 * gate begins it: the SDM has the CPU set it before such an exit, Bochs
 * 2.7 does not. */
void vmx_set_blocking(struct vcpu *v, enum nmi_blocking nmi)
{
	u32 s = (u32)vmread(VMCS_GUEST_INTERRUPTIBILITY);
	u32 want = s & ~(VMX_BLOCK_STI | VMX_BLOCK_MOVSS);

	if (nmi == NMI_BLOCKING_END)
		want &= ~VMX_BLOCK_NMI;
	else if (nmi == NMI_BLOCKING_BEGIN)
		want |= VMX_BLOCK_NMI;

	if (want != s)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, want);
}

/* NMI-window or interrupt-window exiting (bit) on or off. */
static void set_window(struct vmx_vcpu *x, u32 bit, bool on)
{
	u32 proc = on ? x->proc | bit : x->proc & ~bit;

	if (proc != x->proc) {
		x->proc = proc;
		vmwrite(VMCS_PROC_CTLS, proc);
	}
}

/* The guest's interruptibility state as the next entry needs it: an
 * instruction lamina completed for the guest ends the interrupt shadow of
 * an STI or MOV SS before it, as it would have on hardware. Blocking by
 * SMI is only ever set in SMM, which the guest never is in here; Bochs
 * saves it after a SIPI exit all the same, and VM entry then fails. */
static u32 entry_interruptibility(struct vcpu *v, struct vmx_vcpu *x)
{
	u32 s = (u32)vmread(VMCS_GUEST_INTERRUPTIBILITY);
	u32 want = s & ~VMX_BLOCK_SMI;

	if (v->rip != x->exit_rip)
		want &= ~(VMX_BLOCK_STI | VMX_BLOCK_MOVSS);
	if (want != s)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, want);
	return want;
}

void vmx_events_before_entry(struct vcpu *v)
{
	struct vmx_vcpu *x = v->vendor;
	u32 blocking = entry_interruptibility(v, x);
	bool held, sti_only;

	if (x->waiting_sipi) {
		set_window(x, PROC_NMI_WINDOW | PROC_INTR_WINDOW, false);
		return;
	}
	if (x->nmi_queued && !x->event_set && !(blocking & BLOCKS_NMI)) {
		vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO(VMX_INTR_TYPE_NMI, 2));
		x->nmi_queued = false;
		x->event_set = true;
	}
	/* An NMI still held (here, or taken by lamina and not yet handed
	 * over): exit as soon as the guest can take it. Whether blocking by
	 * STI holds off the NMI window is processor-dependent: where it does
	 * not, that exit would come at once, shadow still on, for ever. The
	 * shadow alone is waited out with the interrupt window instead (IF
	 * is 1 after STI), as KVM does. */
	held = x->nmi_queued || v->cpu->nmi_pending;
	sti_only = (blocking & BLOCKS_NMI) == VMX_BLOCK_STI;
	set_window(x, PROC_NMI_WINDOW, held && !sti_only);
	set_window(x, PROC_INTR_WINDOW, held && sti_only);
}

/* IDT-vectoring information: the event being delivered when the exit
 * came, which core/vcpu.c delivers again. */
void vmx_events_after_exit(struct vcpu *v)
{
	struct vmx_vcpu *x = v->vendor;
	struct vm_exit *e = &v->exit;
	u32 idt = (u32)vmread(VMCS_IDT_VECTORING_INFO);

	x->event_set = false; /* VM exits clear the entry interruption field */
	if (!(idt & VMX_INTR_VALID))
		return;
	e->event_pending = true;
	e->event_type = VMX_INTR_TYPE(idt);
	/* An NMI lamina injected did not get through: the entry that injected
	 * it began virtual-NMI blocking, which the exit saved, and VM entry
	 * refuses to inject an NMI with it set (SDM Vol. 3C 26.3.1.5, 31.7.1.2);
	 * left set, the NMI would wait for the guest's next IRET. */
	if (e->event_type == EVENT_NMI)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
			vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~VMX_BLOCK_NMI);
	e->event_vector = VMX_INTR_VECTOR(idt);
	e->event_has_error = idt & VMX_INTR_ERROR_VALID;
	if (e->event_has_error)
		e->event_error = (u32)vmread(VMCS_IDT_VECTORING_ERROR);
	if (e->event_type >= EVENT_SOFTINT)
		x->event_insn_len = (u8)vmread(VMCS_EXIT_INSN_LEN);
}

/* An exit in an IRET that unblocked NMIs (bit 12 of the qualification or
 * exit interruption information): the IRET is done again after lamina
 * handles the exit, so virtual-NMI blocking must be as before it. */
void vmx_iret_reblock_nmi(struct vcpu *v, u64 info)
{
	if (!(info & VMX_INTR_NMI_UNBLOCKED) || v->exit.event_pending)
		return;
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
		vmread(VMCS_GUEST_INTERRUPTIBILITY) | VMX_BLOCK_NMI);
}

/* An NMI taken in lamina (smp_nmi_taken_in_lamina): the
 * VMX-preemption timer, activated at 0, makes the next VM entry exit
 * before the guest runs an instruction, and vmx_kick_exit turns it off
 * again. Written here in the NMI handler, between any two VMWRITEs of
 * lamina's: nothing else writes the pin-based controls or the timer after
 * setup. Without the timer the kick waits for the guest's next exit. */
void vmx_nmi_missed(struct vcpu *v)
{
	struct vmx_vcpu *x = v->vendor;

	if (!x || !__atomic_load_n(&x->vmcs_current, __ATOMIC_ACQUIRE) ||
	    !(vmx_caps.pin_may & PIN_PREEMPTION_TIMER))
		return;
	vmwrite(VMCS_PREEMPTION_TIMER, 0);
	vmwrite(VMCS_PIN_CTLS, vmx_caps.pin | PIN_PREEMPTION_TIMER);
}

void vmx_kick_exit(void)
{
	vmwrite(VMCS_PIN_CTLS, vmx_caps.pin);
}
