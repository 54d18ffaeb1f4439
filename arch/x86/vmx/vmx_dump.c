/* Saying why VM entry failed: the VM-instruction error or the exit
 * qualification, and the guest state VM entry checks, so a failure can be
 * read off the log. */
#include <core/log.h>
#include "vmx.h"

static const char *const insn_errors[] = {
	[7] = "invalid control fields",
	[8] = "invalid host-state fields",
	[26] = "blocking by MOV SS",
};

void vmcs_field_error(u32 field, bool write)
{
	static unsigned int reported;

	if (reported++ < 8)
		log_err("VT-x: %s of VMCS field %#x failed", write ? "VMWRITE" : "VMREAD", field);
}

static void dump_seg(const char *name, unsigned int i)
{
	log_err("  %-4s sel %04llx base %016llx limit %08llx ar %05llx", name,
		(unsigned long long)vmread(VMCS_GUEST_SEL(i)),
		(unsigned long long)vmread(VMCS_GUEST_BASE(i)),
		(unsigned long long)vmread(VMCS_GUEST_LIMIT(i)),
		(unsigned long long)vmread(VMCS_GUEST_AR(i)));
}

static void dump_guest(void)
{
	static const char *const names[] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr" };

	log_err("  cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx", (unsigned long long)vmread(VMCS_GUEST_CR0),
		(unsigned long long)vmread(VMCS_GUEST_CR3), (unsigned long long)vmread(VMCS_GUEST_CR4),
		(unsigned long long)vmread(VMCS_GUEST_EFER));
	log_err("  rip %#llx rsp %#llx rflags %#llx activity %llu interruptibility %#llx",
		(unsigned long long)vmread(VMCS_GUEST_RIP), (unsigned long long)vmread(VMCS_GUEST_RSP),
		(unsigned long long)vmread(VMCS_GUEST_RFLAGS),
		(unsigned long long)vmread(VMCS_GUEST_ACTIVITY),
		(unsigned long long)vmread(VMCS_GUEST_INTERRUPTIBILITY));
	log_err("  entry controls %#llx, injecting %#llx, secondary controls %#llx",
		(unsigned long long)vmread(VMCS_ENTRY_CTLS),
		(unsigned long long)vmread(VMCS_ENTRY_INTR_INFO),
		(unsigned long long)vmread(VMCS_PROC_CTLS2));
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		dump_seg(names[i], i);
}

/* insn_error: the VM-instruction error of a VMLAUNCH/VMRESUME that
 * failed (VMX_NO_CURRENT_VMCS for VMfailInvalid), or 0 for an entry that
 * failed in the guest-state checks (an exit with bit 31 of the reason
 * set). */
void vmx_report_entry_failure(struct vcpu *v, u32 insn_error)
{
	if (insn_error == VMX_NO_CURRENT_VMCS) {
		log_err("VT-x: VM entry on CPU %u failed: no current VMCS", v->cpu->index);
		return;
	}
	if (insn_error) {
		const char *what = insn_error < ARRAY_SIZE(insn_errors) ? insn_errors[insn_error] : NULL;
		log_err("VT-x: VM entry on CPU %u failed: VM-instruction error %u (%s)",
			v->cpu->index, insn_error, what ? what : "see the SDM");
	} else {
		log_err("VT-x: VM entry on CPU %u failed: exit reason %#llx, qualification %#llx",
			v->cpu->index, (unsigned long long)vmread(VMCS_EXIT_REASON),
			(unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
	}
	dump_guest();
}
