/* Assembly only, for the world switches (svm_entry.S, vmx_entry.S):
 * lamina's callee-saved registers, and the guest's general registers
 * moved between the CPU and gprs[] (enum x86_gpr order). RAX, RSP and
 * RDI are left to each switch: where they live differs (VMCB, VMCS) and
 * RDI holds the gprs pointer until the last moment. */
#ifndef X86_WORLD_SWITCH_H
#define X86_WORLD_SWITCH_H

#ifdef __ASSEMBLY__
#define GPR(n) (8 * (n))

	/* lamina's callee-saved registers, kept across a world switch. */
	.macro HOST_CALLEE_SAVED_PUSH
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	.endm

	.macro HOST_CALLEE_SAVED_POP
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	.endm

	.macro GUEST_GPRS_LOAD base
	movq GPR(1)(\base), %rcx
	movq GPR(2)(\base), %rdx
	movq GPR(3)(\base), %rbx
	movq GPR(5)(\base), %rbp
	movq GPR(6)(\base), %rsi
	movq GPR(8)(\base), %r8
	movq GPR(9)(\base), %r9
	movq GPR(10)(\base), %r10
	movq GPR(11)(\base), %r11
	movq GPR(12)(\base), %r12
	movq GPR(13)(\base), %r13
	movq GPR(14)(\base), %r14
	movq GPR(15)(\base), %r15
	.endm

	.macro GUEST_GPRS_SAVE base
	movq %rcx, GPR(1)(\base)
	movq %rdx, GPR(2)(\base)
	movq %rbx, GPR(3)(\base)
	movq %rbp, GPR(5)(\base)
	movq %rsi, GPR(6)(\base)
	movq %r8, GPR(8)(\base)
	movq %r9, GPR(9)(\base)
	movq %r10, GPR(10)(\base)
	movq %r11, GPR(11)(\base)
	movq %r12, GPR(12)(\base)
	movq %r13, GPR(13)(\base)
	movq %r14, GPR(14)(\base)
	movq %r15, GPR(15)(\base)
	.endm
#endif

#endif
