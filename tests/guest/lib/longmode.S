/* Into 64-bit mode and back. See longmode.h. */
#include "desc.h"

#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR4_PAE 0x20
#define CR0_PG 0x80000000

	.text
	.code32
/* int long_mode_call(u32 fn64, u32 arg): runs fn64(arg) in 64-bit mode
 * (arg in RDI); -1, or the vector of an exception fn64 raised. */
	.globl long_mode_call
long_mode_call:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 20(%esp), %esi
	movl 24(%esp), %edi
	movl %esp, lm_saved_esp
	movl lm_cr3, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0		/* IA-32e mode, compatibility submode */
	ljmp $SEL_KCODE64, $1f

	.code64
	/* Upper halves of registers are undefined after the switch. */
1:	movl %esp, %esp
	movl %edi, %edi
	movl %esi, %esi
	movl $lm_idt_desc, %eax	/* (an ELF32 object has no 32S relocation) */
	lidt (%rax)
	call *%rsi
	movl $-1, %eax
lm_return:			/* EAX: the result */
	pushq $SEL_KCODE
	movl $2f, %ecx
	pushq %rcx
	lretq

	.code32
2:	movl %eax, %ebx
	movl %cr0, %eax
	andl $~CR0_PG, %eax
	movl %eax, %cr0
	movl $MSR_EFER, %ecx
	rdmsr
	andl $~EFER_LME, %eax
	wrmsr
	movl %cr4, %eax
	andl $~CR4_PAE, %eax
	movl %eax, %cr4
	call trap_load_idt
	movl %ebx, %eax
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/* 64-bit exception stubs: give up the visit, returning the vector. */
	.code64
	.balign 16
	.globl lm_trap_stubs
lm_trap_stubs:
	.set vec, 0
	.rept 32
	.balign 16
	movl $vec, %eax
	jmp lm_trap
	.set vec, vec + 1
	.endr
lm_trap:
	movl $lm_saved_esp, %ecx
	movl (%rcx), %esp
	jmp lm_return

/* The 64-bit routines, called with RDI = argument. */

/* struct { u64 addr, val; }: store val at addr. */
	.globl lm_store64_fn
lm_store64_fn:
	movq (%rdi), %rdx
	movq 8(%rdi), %rax
	movq %rax, (%rdx)
	ret

/* struct { u64 addr, val; }: load val from addr. */
	.globl lm_load64_fn
lm_load64_fn:
	movq (%rdi), %rdx
	movq (%rdx), %rax
	movq %rax, 8(%rdi)
	ret

/* struct hc64_regs: VMMCALL (lm_vmmcall_fn) or VMCALL (lm_vmcall_fn). */
	.globl lm_vmmcall_fn, lm_vmcall_fn
lm_vmmcall_fn:
	call hc64_load
	vmmcall
	jmp hc64_store
lm_vmcall_fn:
	call hc64_load
	vmcall
	jmp hc64_store
hc64_load:
	pushq %rdi
	movq 8(%rdi), %rbx
	movq 16(%rdi), %rcx
	movq 24(%rdi), %rdx
	movq 32(%rdi), %rsi
	movq (%rdi), %rax
	popq %rdi
	ret
hc64_store:
	movq %rax, (%rdi)
	movq %rbx, 8(%rdi)
	movq %rcx, 16(%rdi)
	movq %rdx, 24(%rdi)
	movq %rsi, 32(%rdi)
	ret

	.data
	.balign 8
	.word 0, 0, 0		/* aligns the base */
	.globl lm_idt_desc
lm_idt_desc:
	.word 0
	.quad 0

	.bss
	.balign 4
lm_saved_esp:
	.long 0
