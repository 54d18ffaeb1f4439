/* void svm_enter(u64 *gprs, u64 guest_vmcb_pa, u64 host_vmcb_pa)
 * One round trip into the guest. VMRUN itself switches RAX, RSP, RIP,
 * RFLAGS, control and segment registers; VMLOAD/VMSAVE switch FS, GS, TR,
 * LDTR and the SYSCALL/SYSENTER MSRs (lamina's TR matters: its IST stacks);
 * the other general registers are switched here, from and to gprs[]
 * (enum x86_gpr order; RAX and RSP live in the VMCB). GIF stays clear in
 * lamina: VMRUN sets it for the guest, #VMEXIT clears it. */
#include <x86/world_switch.h>

	.text
	.globl svm_enter
svm_enter:
	HOST_CALLEE_SAVED_PUSH
	pushq %rdi                 /* gprs */
	pushq %rdx                 /* host VMCB */
	pushq %rsi                 /* guest VMCB */
	clgi
	movq %rdx, %rax
	vmsave %rax
	movq %rsi, %rax
	vmload %rax
	GUEST_GPRS_LOAD %rdi
	movq GPR(7)(%rdi), %rdi
	vmrun %rax
	/* #VMEXIT: RSP and RAX are lamina's again. */
1:	pushq %rdi
	movq 24(%rsp), %rdi        /* gprs, above guest RDI and the two VMCBs */
	GUEST_GPRS_SAVE %rdi
	popq GPR(7)(%rdi)
	popq %rax                  /* guest VMCB */
	vmsave %rax
	popq %rax                  /* host VMCB */
	vmload %rax
	popq %rdi
	HOST_CALLEE_SAVED_POP
	ret

	/* Bochs 2.7 keeps the single-step trap of a guest instruction that
	 * was intercepted (RFLAGS.TF set) pending across #VMEXIT and delivers
	 * the #DB here, in lamina, with the guest's GS still loaded; by the
	 * APM the instruction did not run and there is no trap. It is not
	 * lamina's: its exception-table entry resumes right where it came. */
	.pushsection lamina_extable, "a"
	.balign 8
	.quad 1b, 1b
	.popsection
