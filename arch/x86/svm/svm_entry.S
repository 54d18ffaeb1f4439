/* void svm_enter(u64 *gprs, u64 guest_vmcb_pa, u64 host_vmcb_pa)
 * One round trip into the guest. VMRUN itself switches RAX, RSP, RIP,
 * RFLAGS, control and segment registers; VMLOAD/VMSAVE switch FS, GS, TR,
 * LDTR and the SYSCALL/SYSENTER MSRs (lamina's TR matters: its IST stacks);
 * the other general registers are switched here, from and to gprs[]
 * (enum x86_gpr order; RAX and RSP live in the VMCB). GIF stays clear in
 * lamina: VMRUN sets it for the guest, #VMEXIT clears it. */
#define GPR(n) (8 * (n))

	.text
	.globl svm_enter
svm_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi                 /* gprs */
	pushq %rdx                 /* host VMCB */
	pushq %rsi                 /* guest VMCB */
	clgi
	movq %rdx, %rax
	vmsave %rax
	movq %rsi, %rax
	vmload %rax
	movq GPR(1)(%rdi), %rcx
	movq GPR(2)(%rdi), %rdx
	movq GPR(3)(%rdi), %rbx
	movq GPR(5)(%rdi), %rbp
	movq GPR(6)(%rdi), %rsi
	movq GPR(8)(%rdi), %r8
	movq GPR(9)(%rdi), %r9
	movq GPR(10)(%rdi), %r10
	movq GPR(11)(%rdi), %r11
	movq GPR(12)(%rdi), %r12
	movq GPR(13)(%rdi), %r13
	movq GPR(14)(%rdi), %r14
	movq GPR(15)(%rdi), %r15
	movq GPR(7)(%rdi), %rdi
	vmrun %rax
	/* #VMEXIT: RSP and RAX are lamina's again. */
	pushq %rdi
	movq 24(%rsp), %rdi        /* gprs, above guest RDI and the two VMCBs */
	movq %rcx, GPR(1)(%rdi)
	movq %rdx, GPR(2)(%rdi)
	movq %rbx, GPR(3)(%rdi)
	movq %rbp, GPR(5)(%rdi)
	movq %rsi, GPR(6)(%rdi)
	movq %r8, GPR(8)(%rdi)
	movq %r9, GPR(9)(%rdi)
	movq %r10, GPR(10)(%rdi)
	movq %r11, GPR(11)(%rdi)
	movq %r12, GPR(12)(%rdi)
	movq %r13, GPR(13)(%rdi)
	movq %r14, GPR(14)(%rdi)
	movq %r15, GPR(15)(%rdi)
	popq GPR(7)(%rdi)
	popq %rax                  /* guest VMCB */
	vmsave %rax
	popq %rax                  /* host VMCB */
	vmload %rax
	popq %rdi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
