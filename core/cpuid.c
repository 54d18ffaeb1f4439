/* CPUID as the guest sees it: the real CPU's answers, minus the
 * virtualization extensions lamina uses, with the bits that reflect the
 * guest's own control registers computed from those. */
#include <core/exit_handlers.h>
#include <x86/cpu.h>

#define CPUID1_ECX_VMX BIT(5)
#define CPUID1_ECX_SMX BIT(6)
#define CPUID1_ECX_OSXSAVE BIT(27)
#define CPUID7_ECX_OSPKE BIT(4)
#define CPUID7_EBX_INTEL_PT BIT(25)
#define CPUID_D1_ECX_XSS_PT BIT(8)
#define CPUID_80000001_ECX_SVM BIT(2)
#define CPUID_80000001_ECX_SKINIT BIT(12)
#define CPUID_80000008_EBX_INVLPGB BIT(3)
#define CR4_PKE BIT(22)

static void cpuid_policy(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	u64 cr4;

	switch (leaf) {
	case 1:
		/* CPUID ran with lamina's CR4, so OSXSAVE is the guest's to say. */
		cr4 = vendor->get_reg(v, GUEST_CR4);
		/* SMX too: lamina turns GETSEC into #UD (it exits on VT-x). */
		r->ecx &= ~(CPUID1_ECX_VMX | CPUID1_ECX_SMX | CPUID1_ECX_OSXSAVE);
		if (cr4 & CR4_OSXSAVE)
			r->ecx |= CPUID1_ECX_OSXSAVE;
		break;
	case 7:
		if (sub == 0) {
			/* Processor Trace: see core/msr.c. */
			r->ebx &= ~CPUID7_EBX_INTEL_PT;
			r->ecx &= ~CPUID7_ECX_OSPKE;
			if (vendor->get_reg(v, GUEST_CR4) & CR4_PKE)
				r->ecx |= CPUID7_ECX_OSPKE;
		}
		break;
	case 0x80000001:
		/* SKINIT too: lamina turns SKINIT, STGI and CLGI into #UD. */
		r->ecx &= ~(CPUID_80000001_ECX_SVM | CPUID_80000001_ECX_SKINIT);
		break;
	case 0x80000008:
		/* INVLPGB and TLBSYNC raise #UD in an AMD-V guest unless the
		 * VMCB enables them, which lamina does not (untested on any
		 * CPU it runs on here): not offered. */
		r->ebx &= ~CPUID_80000008_EBX_INVLPGB;
		break;
	case 0xd:
		/* Processor Trace's state component (IA32_XSS bit 8): see
		 * core/msr.c. */
		if (sub == 1)
			r->ecx &= ~CPUID_D1_ECX_XSS_PT;
		else if (sub == 8)
			*r = (struct cpuid_regs){ 0 };
		break;
	case 0x14: /* Processor Trace's leaf: reserved without it */
	case 0x8000000a: /* SVM features: reserved without SVM */
		*r = (struct cpuid_regs){ 0 };
		break;
	}
}

void exit_cpuid(struct vcpu *v)
{
	u32 leaf = (u32)v->gpr[X86_RAX], sub = (u32)v->gpr[X86_RCX];
	struct cpuid_regs r = cpuid_count(leaf, sub);

	cpuid_policy(v, leaf, sub, &r);
	v->gpr[X86_RAX] = r.eax;
	v->gpr[X86_RBX] = r.ebx;
	v->gpr[X86_RCX] = r.ecx;
	v->gpr[X86_RDX] = r.edx;
	vcpu_skip_insn(v);
}
