/* Entering the guest and turning VMX exit reasons into generic exits. */
#include <core/format.h>
#include <core/log.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>
#include "vmx.h"

/* Basic exit reasons (SDM Vol. 3, appendix C). */
enum {
	EXIT_EXCEPTION_NMI = 0, EXIT_EXT_INT = 1, EXIT_TRIPLE_FAULT = 2, EXIT_INIT = 3,
	EXIT_SIPI = 4, EXIT_INTR_WINDOW = 7, EXIT_NMI_WINDOW = 8, EXIT_TASK_SWITCH = 9, EXIT_CPUID = 10, EXIT_GETSEC = 11,
	EXIT_INVD = 13, EXIT_VMCALL = 18, EXIT_VMCLEAR = 19, EXIT_VMLAUNCH = 20,
	EXIT_VMPTRLD = 21, EXIT_VMPTRST = 22, EXIT_VMREAD = 23, EXIT_VMRESUME = 24,
	EXIT_VMWRITE = 25, EXIT_VMXOFF = 26, EXIT_VMXON = 27, EXIT_CR_ACCESS = 28,
	EXIT_IO = 30, EXIT_RDMSR = 31, EXIT_WRMSR = 32, EXIT_EPT_VIOLATION = 48,
	EXIT_EPT_MISCONFIG = 49, EXIT_INVEPT = 50, EXIT_PREEMPTION_TIMER = 52,
	EXIT_INVVPID = 53, EXIT_WBINVD = 54,
	EXIT_XSETBV = 55, EXIT_VMFUNC = 59,
};
#define EXIT_ENTRY_FAILURE BIT(31)

struct exit_map {
	u8 code;
	u8 reason;
	bool insn; /* caused by an instruction: the exit gives its length */
};

/* GETSEC exits only with the guest's CR4.SMXE set; lamina offers no SMX
 * to the guest, so it is one more VMX-family instruction: #UD. */
static const struct exit_map exit_table[] = {
	{ EXIT_EXCEPTION_NMI, LAMINA_EXIT_EXCEPTION, false },
	{ EXIT_EXT_INT, LAMINA_EXIT_INTR, false },
	{ EXIT_TRIPLE_FAULT, LAMINA_EXIT_SHUTDOWN, false },
	{ EXIT_INIT, LAMINA_EXIT_INIT, false },
	{ EXIT_SIPI, LAMINA_EXIT_SIPI, false },
	{ EXIT_INTR_WINDOW, LAMINA_EXIT_NMI, false }, /* for an NMI: see vmx_event.c */
	{ EXIT_NMI_WINDOW, LAMINA_EXIT_NMI, false },
	{ EXIT_PREEMPTION_TIMER, LAMINA_EXIT_NMI, false }, /* vmx_nmi_missed */
	/* The instruction length is valid for CALL, JMP, IRET and for INT n
	 * (and INT3, INTO, INT1) through an IDT task gate. */
	{ EXIT_TASK_SWITCH, LAMINA_EXIT_TASK_SWITCH, true },
	{ EXIT_CPUID, LAMINA_EXIT_CPUID, true },
	{ EXIT_GETSEC, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_INVD, LAMINA_EXIT_INVD, true },
	{ EXIT_VMCALL, LAMINA_EXIT_HYPERCALL, true },
	{ EXIT_VMCLEAR, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_VMLAUNCH, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_VMPTRLD, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_VMPTRST, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_VMREAD, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_VMRESUME, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_VMWRITE, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_VMXOFF, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_VMXON, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_CR_ACCESS, LAMINA_EXIT_CR_ACCESS, true },
	{ EXIT_IO, LAMINA_EXIT_IO, true },
	{ EXIT_RDMSR, LAMINA_EXIT_MSR_READ, true },
	{ EXIT_WRMSR, LAMINA_EXIT_MSR_WRITE, true },
	{ EXIT_EPT_VIOLATION, LAMINA_EXIT_NESTED_FAULT, false },
	{ EXIT_EPT_MISCONFIG, LAMINA_EXIT_NESTED_MISCONFIG, false },
	{ EXIT_INVEPT, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_INVVPID, LAMINA_EXIT_VIRT_INSN, true },
	{ EXIT_WBINVD, LAMINA_EXIT_WBINVD, true },
	{ EXIT_XSETBV, LAMINA_EXIT_XSETBV, true },
	{ EXIT_VMFUNC, LAMINA_EXIT_VIRT_INSN, true },
};

static const struct exit_map *lookup(u32 code)
{
	if (code & EXIT_ENTRY_FAILURE)
		return NULL;
	for (unsigned int i = 0; i < ARRAY_SIZE(exit_table); i++)
		if (exit_table[i].code == (code & 0xffff))
			return &exit_table[i];
	return NULL;
}

/* An NMI was consumed by the exit and NMIs stay blocked until an IRET:
 * run lamina's NMI logic, then IRET to ourselves. An exception (#DB or
 * #AC) goes back to the guest; if it was a fault in an IRET that had
 * ended NMI blocking, the blocking is back. */
static void exit_nmi_or_exception(struct vcpu *v)
{
	struct vm_exit *e = &v->exit;
	u32 info = (u32)vmread(VMCS_EXIT_INTR_INFO);

	if (VMX_INTR_TYPE(info) == VMX_INTR_TYPE_NMI) {
		e->reason = LAMINA_EXIT_NMI;
		nmi_handle();
		vmx_unblock_nmi();
		return;
	}
	e->exception.vector = VMX_INTR_VECTOR(info);
	e->exception.has_error = info & VMX_INTR_ERROR_VALID;
	if (e->exception.has_error)
		e->exception.error = (u32)vmread(VMCS_EXIT_INTR_ERROR);
	vmx_iret_reblock_nmi(v, info);
	if (e->exception.vector == X86_EXC_DB)
		vmx_debug_exit(v, info);
}

/* NMIs are blocked while a CPU waits for SIPI; Bochs 2.7 leaves them
 * blocked past the SIPI exit until an IRET (harmless elsewhere). */
static void exit_sipi_vector(struct vm_exit *e)
{
	e->sipi.vector = (u8)vmread(VMCS_EXIT_QUALIFICATION);
	vmx_unblock_nmi();
}

/* I/O qualification: size - 1 in bits 0-2, IN in 3, string 4, REP 5, port 16-31. */
static void decode_io(struct vm_exit *e, u64 q)
{
	e->io.size = (q & 7) + 1;
	e->io.in = q & BIT(3);
	e->io.string = q & BIT(4);
	e->io.rep = q & BIT(5);
	e->io.port = (u16)(q >> 16);
}

/* Task switch qualification: the new TSS selector in bits 0-15, the
 * source (enum task_switch_source) in bits 30-31. */
static void decode_task_switch(struct vm_exit *e, u64 q)
{
	e->task_switch.sel = (u16)q;
	e->task_switch.source = (u8)((q >> 30) & 3);
}

/* EPT violation qualification: read, write, fetch in bits 0-2; bit 7 set
 * with bit 8 clear means the access was the CPU walking the guest's page
 * tables. */
static void decode_ept_violation(struct vcpu *v, u64 q)
{
	struct vm_exit *e = &v->exit;

	e->npf.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	e->npf.write = q & BIT(1);
	e->npf.fetch = q & BIT(2);
	e->npf.in_walk = (q & BIT(7)) && !(q & BIT(8));
	vmx_iret_reblock_nmi(v, q);
}

static void fill_exit(struct vcpu *v)
{
	struct vm_exit *e = &v->exit;
	u32 code = (u32)vmread(VMCS_EXIT_REASON);
	const struct exit_map *m = lookup(code);

	*e = (struct vm_exit){ .reason = m ? m->reason : LAMINA_EXIT_OTHER, .vendor_code = code };
	if (m && m->insn)
		e->insn_len = (u8)vmread(VMCS_EXIT_INSN_LEN);
	vmx_events_after_exit(v);
	if (code & EXIT_ENTRY_FAILURE)
		vmx_report_entry_failure(v, 0);
	else if (code == EXIT_EXCEPTION_NMI)
		exit_nmi_or_exception(v);
	else if (code == EXIT_SIPI)
		exit_sipi_vector(e);
	else if (code == EXIT_PREEMPTION_TIMER)
		vmx_kick_exit();
	else if (code == EXIT_IO)
		decode_io(e, vmread(VMCS_EXIT_QUALIFICATION));
	else if (code == EXIT_EPT_VIOLATION)
		decode_ept_violation(v, vmread(VMCS_EXIT_QUALIFICATION));
	else if (code == EXIT_TASK_SWITCH)
		decode_task_switch(e, vmread(VMCS_EXIT_QUALIFICATION));
}

/* VMLAUNCH/VMRESUME itself failed (bad controls or host state: a bug in
 * lamina): the guest cannot run on. */
static void entry_failed(struct vcpu *v, int how)
{
	u32 err = how == 2 ? (u32)vmread(VMCS_INSN_ERROR) : VMX_NO_CURRENT_VMCS;

	vmx_report_entry_failure(v, err);
	v->exit = (struct vm_exit){ .reason = LAMINA_EXIT_OTHER,
				    .vendor_code = EXIT_ENTRY_FAILURE | err };
}

static void enter_once(struct vcpu *v)
{
	struct vmx_vcpu *x = v->vendor;
	int fail;

	vmx_events_before_entry(v);
	vmwrite(VMCS_GUEST_RIP, v->rip);
	vmwrite(VMCS_GUEST_RSP, v->gpr[X86_RSP]);
	vmwrite(VMCS_GUEST_RFLAGS, v->rflags);
	fail = vmx_enter(v->gpr, x->launched);
	if (fail)
		return entry_failed(v, fail);
	x->launched = true;
	v->rip = x->exit_rip = vmread(VMCS_GUEST_RIP);
	v->gpr[X86_RSP] = vmread(VMCS_GUEST_RSP);
	v->rflags = vmread(VMCS_GUEST_RFLAGS);
	/* Paging turned on or off in the guest changes EFER.LMA; most CPUs
	 * store it into the entry controls themselves. */
	if (!vmx_caps.saves_lma)
		vmx_load_efer(vmread(VMCS_GUEST_EFER));
	fill_exit(v);
}

/* An INIT that reaches a CPU waiting for SIPI is held (blocked), not
 * dropped: it exits at the first entry after the SIPI started the CPU.
 * It came before that SIPI, and the wait-for-SIPI state is where it
 * leads anyway: it is spent. A later INIT exits after the guest ran. */
static bool stale_init(struct vcpu *v, struct vmx_vcpu *x)
{
	bool stale = x->fresh && v->exit.reason == LAMINA_EXIT_INIT;

	if (stale && x->waiting_sipi)
		vmwrite(VMCS_GUEST_ACTIVITY, VMX_ACTIVITY_WAIT_SIPI);
	x->fresh = false;
	return stale;
}

void vmx_run(struct vcpu *v)
{
	do
		enter_once(v);
	while (stale_init(v, v->vendor));
}

/* Exits generic code leaves to the back end: CR accesses; anything else
 * here (an exception, an EPT misconfiguration) is a bug in lamina. */
void vmx_handle_private(struct vcpu *v)
{
	char why[128];

	if (v->exit.reason == LAMINA_EXIT_CR_ACCESS)
		return vmx_cr_access(v);
	if (v->exit.reason == LAMINA_EXIT_NESTED_MISCONFIG)
		format(why, sizeof(why), "EPT misconfiguration at guest-physical %#llx on CPU %u",
		       (unsigned long long)vmread(VMCS_GUEST_PHYS_ADDR), v->cpu->index);
	else
		format(why, sizeof(why), "unexpected VT-x exit %#llx (interruption info %#llx) "
		       "on CPU %u at rip %#llx", (unsigned long long)v->exit.vendor_code,
		       (unsigned long long)vmread(VMCS_EXIT_INTR_INFO), v->cpu->index,
		       (unsigned long long)v->rip);
	guest_stop(v, why);
}
