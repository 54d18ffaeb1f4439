/* Interrupt and exception entry: one stub per vector pushes the vector
 * (and a zero where the CPU pushes no error code), then a common path
 * saves the registers as struct irq_frame and calls interrupt_dispatch. */
	.text
	.align 16
isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call interrupt_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/* The stubs of vectors for which the CPU pushes an error code push none:
 * 8 and 10-14. Of the others that do, none can be raised in lamina: #AC
 * (17) needs CPL 3, #CP (21) CET, #VC (29) an SEV-ES host, #SX (30) the
 * INIT redirection lamina does not enable; but the local APIC delivers
 * fixed interrupts on 16-31, which push no error code, and the guest can
 * send one to a CPU waiting in lamina (interrupt_dispatch). */

	.globl isr_stubs
	.section .rodata
	.align 8
isr_stubs:
	.text
	vector = 0
	.rept 256
	.align 16
1:
	.if !(vector == 8 || (vector >= 10 && vector <= 14))
	pushq $0
	.endif
	pushq $vector
	jmp isr_common
	.section .rodata
	.quad 1b
	.text
	vector = vector + 1
	.endr
