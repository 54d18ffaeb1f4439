/* Interrupt and exception entry: one stub per vector pushes the vector
 * (and a zero where the CPU pushes no error code), then a common path
 * saves the registers as struct irq_frame and calls interrupt_dispatch.
 * The handler runs with the normal IDT (idt_normal) whatever IDT took the
 * event: an exception inside it must not meet halt_for_interrupt's stubs,
 * which expect no error code. The IDT it came with is back for the iretq. */
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
	movq %rsp, %rdi /* struct irq_frame; the IDTR is saved below it */
	subq $16, %rsp
	sidt (%rsp)
	lidt idt_normal(%rip)
	call interrupt_dispatch
	lidt (%rsp)
	addq $16, %rsp
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

/* One stub: a zero where the CPU pushes no error code, the vector (plus
 * mark), the common path; its address goes into the table being built
 * in .rodata. */
.macro isr_stub vector, cpu_pushes_error, mark
	.align 16
1:
	.if !(\cpu_pushes_error)
	pushq $0
	.endif
	pushq $(\vector + \mark)
	jmp isr_common
	.section .rodata
	.quad 1b
	.text
.endm

/* The CPU pushes an error code for exceptions 8, 10-14, 17, 21, 29, 30. */
	.globl isr_stubs
	.section .rodata
	.align 8
isr_stubs:
	.text
	vector = 0
	.rept 256
	isr_stub vector, "vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30", 0
	vector = vector + 1
	.endr

/* Vectors 0-31 of the IDT lamina loads only while it halts with interrupts
 * open (halt_for_interrupt): nothing there raises an exception, but an
 * interrupt can come on any of them. They push no error code and mark the
 * vector with bit 8 so that interrupt_dispatch knows. */
	.globl isr_halt_stubs
	.section .rodata
	.align 8
isr_halt_stubs:
	.text
	vector = 0
	.rept 32
	isr_stub vector, 0, 256
	vector = vector + 1
	.endr
