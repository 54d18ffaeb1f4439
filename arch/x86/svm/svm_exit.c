/* Entering the guest and turning #VMEXIT codes into generic exits. */
#include <core/cpu.h>
#include <core/vcpu.h>
#include <x86/cpu.h>
#include "svm.h"

struct exit_map {
	u16 code;
	u8 reason;
};

static const struct exit_map exit_table[] = {
	{ SVM_EXIT_CPUID, LAMINA_EXIT_CPUID },
	{ SVM_EXIT_VMMCALL, LAMINA_EXIT_HYPERCALL },
	{ SVM_EXIT_NPF, LAMINA_EXIT_NESTED_FAULT },
	{ SVM_EXIT_IOIO, LAMINA_EXIT_IO },
	{ SVM_EXIT_NMI, LAMINA_EXIT_NMI },
	{ SVM_EXIT_IRET, LAMINA_EXIT_NMI }, /* the guest's NMI blocking: svm_nmi.c */
	{ SVM_EXIT_INIT, LAMINA_EXIT_INIT },
	{ SVM_EXIT_SHUTDOWN, LAMINA_EXIT_SHUTDOWN },
	{ SVM_EXIT_VMRUN, LAMINA_EXIT_VIRT_INSN },
	{ SVM_EXIT_VMLOAD, LAMINA_EXIT_VIRT_INSN },
	{ SVM_EXIT_VMSAVE, LAMINA_EXIT_VIRT_INSN },
	{ SVM_EXIT_STGI, LAMINA_EXIT_VIRT_INSN },
	{ SVM_EXIT_CLGI, LAMINA_EXIT_VIRT_INSN },
	{ SVM_EXIT_SKINIT, LAMINA_EXIT_VIRT_INSN },
	{ SVM_EXIT_INVLPGA, LAMINA_EXIT_VIRT_INSN },
	{ SVM_EXIT_XSETBV, LAMINA_EXIT_XSETBV },
	{ SVM_EXIT_INVD, LAMINA_EXIT_INVD },
	{ SVM_EXIT_WBINVD, LAMINA_EXIT_WBINVD },
	{ SVM_EXIT_INTR, LAMINA_EXIT_INTR },
};

static enum lamina_exit_reason reason_of(const struct vmcb_control *c)
{
	if (c->exit_code == SVM_EXIT_MSR)
		return c->exit_info1 ? LAMINA_EXIT_MSR_WRITE : LAMINA_EXIT_MSR_READ;
	if (c->exit_code >= SVM_EXIT_EXCP_BASE && c->exit_code < SVM_EXIT_EXCP_BASE + 32)
		return LAMINA_EXIT_EXCEPTION;
	for (unsigned int i = 0; i < ARRAY_SIZE(exit_table); i++)
		if (exit_table[i].code == c->exit_code)
			return exit_table[i].reason;
	return LAMINA_EXIT_OTHER;
}

static void fill_exit(struct vcpu *v, const struct vmcb *vmcb)
{
	const struct vmcb_control *c = &vmcb->ctl;
	struct vm_exit *e = &v->exit;

	*e = (struct vm_exit){ .reason = reason_of(c), .vendor_code = c->exit_code };
	/* With NRIPS the CPU reports where an intercepted instruction ends. */
	if (svm_has_nrips() && c->next_rip > vmcb->save.rip &&
	    c->next_rip - vmcb->save.rip <= X86_MAX_INSN_LEN)
		e->insn_len = c->next_rip - vmcb->save.rip;
	switch (e->reason) {
	case LAMINA_EXIT_NESTED_FAULT:
		e->npf.gpa = c->exit_info2;
		e->npf.write = c->exit_info1 & BIT(1);
		e->npf.fetch = c->exit_info1 & BIT(4);
		e->npf.in_walk = c->exit_info1 & BIT(33);
		break;
	case LAMINA_EXIT_IO:
		e->io.port = c->exit_info1 >> 16;
		e->io.in = c->exit_info1 & BIT(0);
		e->io.string = c->exit_info1 & BIT(2);
		e->io.rep = c->exit_info1 & BIT(3);
		e->io.size = (c->exit_info1 >> 4) & 7; /* one-hot 1, 2, 4 */
		e->insn_len = c->exit_info2 - vmcb->save.rip; /* next RIP, even without NRIPS */
		break;
	case LAMINA_EXIT_EXCEPTION:
		/* The CPU has written DR6 (and cleared DR7.GD) for a #DB; EXITINFO1
		 * holds the error code of those that push one. */
		e->exception.vector = (u8)(c->exit_code - SVM_EXIT_EXCP_BASE);
		e->exception.has_error = x86_exception_has_error(e->exception.vector);
		e->exception.error = (u32)c->exit_info1;
		e->exception.cr2 = c->exit_info2; /* #PF only */
		break;
	default:
		break;
	}
	if (c->exit_int_info & SVM_EVT_VALID) {
		e->event_pending = true;
		e->event_vector = c->exit_int_info & 0xff;
		e->event_type = (c->exit_int_info >> SVM_EVT_TYPE_SHIFT) & 7;
		e->event_has_error = c->exit_int_info & SVM_EVT_ERROR_VALID;
		e->event_error = c->exit_int_info >> 32;
	}
}

/* CR4 bits that change how addresses translate. QEMU's TCG flushes its
 * whole software TLB and jump cache whenever VMRUN or #VMEXIT changes one
 * of them; lamina's own tables work with any of them (no user pages, no
 * large-page dependence on PSE in long mode), so the host follows the
 * guest: two flushes fewer per exit there, nothing changes on hardware. */
#define CR4_TRANSLATION_BITS (CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP)

static void host_cr4_follow_guest(struct svm_vcpu *s)
{
	u64 want = (s->host_cr4 & ~CR4_TRANSLATION_BITS) |
		   (s->vmcb->save.cr4 & CR4_TRANSLATION_BITS);

	if (want != s->host_cr4) {
		write_cr4(want);
		s->host_cr4 = want;
	}
}

void svm_run(struct vcpu *v)
{
	struct svm_vcpu *s = v->vendor;
	struct vmcb *vmcb = s->vmcb;

	host_cr4_follow_guest(s);
	svm_events_before_entry(v);

	vmcb->save.rax = v->gpr[X86_RAX];
	vmcb->save.rsp = v->gpr[X86_RSP];
	vmcb->save.rip = v->rip;
	vmcb->save.rflags = v->rflags;
	svm_enter(v->gpr, s->vmcb_pa, s->host_vmcb_pa);
	/* After a refused VMRUN the save area may hold what the CPU was
	 * checking, not a guest's state (Bochs leaves lamina's RIP there):
	 * the report names the guest's RIP from before. */
	if (vmcb->ctl.exit_code != SVM_EXIT_INVALID) {
		v->gpr[X86_RAX] = vmcb->save.rax;
		v->gpr[X86_RSP] = vmcb->save.rsp;
		v->rip = vmcb->save.rip;
		v->rflags = vmcb->save.rflags;
	}
	vmcb->ctl.tlb_control = 0;
	vmcb->ctl.event_inj = 0;
	if (vmcb->ctl.exit_code == SVM_EXIT_NMI) {
		/* The NMI is still pending, held by GIF = 0: open GIF so
		 * lamina's handler takes it (and decides whose it is).
		 * That needs no NMI window as VT-x has: outside a wait for
		 * SIPI, this is the only place lamina takes an NMI, and an
		 * NMI exit comes at an instruction boundary, not in the
		 * middle of an event's delivery, so nothing is injected again
		 * after it, and the guest gets the NMI as soon as it can take
		 * one (svm_nmi.c). An NMI that comes while lamina handles another
		 * exit stays pending in the CPU (GIF = 0) and exits right
		 * after the next VMRUN has delivered what it injects. */
		__asm__ volatile("stgi; clgi" ::: "memory");
	}
	fill_exit(v, vmcb);
	svm_events_after_exit(v);
}
