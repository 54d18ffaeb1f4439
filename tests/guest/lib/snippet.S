/* The runners of snippet.h: load every register from snip_io, run the
 * slot, store every register back. */
#include "desc.h"
#include "snippet.h"

#define R(n) (snip_io + 8 * (n))

/* The instruction ends where the slot does, and the runner goes on past
 * a strip that an emulator stepping RIP too far lands in: its jump's
 * displacement is PUSH CS (or #UD in 64-bit code), the rest INT3s. The
 * probe of the 32-bit runner covers the strip too. */
#define STRIP_LEN 14
#define STRIP .byte 0xeb, STRIP_LEN; .fill STRIP_LEN, 1, 0xcc
#define CR0_PG 0x80000000
#define CR4_PSE 0x10

	.text
	.code32
/* int snip_run32(u32 cr3): TRAP_NONE or the vector caught by the probe
 * around the slot (trap.h), which resumes after the slot. */
	.globl snip_run32
snip_run32:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 20(%esp), %eax
	movl %esp, snip_host_esp
	testl %eax, %eax
	jz 1f
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PSE, %eax
	movl %eax, %cr4
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	jmp 1f
1:	movl $SEL_SNIP_ES, %eax
	movw %ax, %es
	movl $SEL_SNIP_FS, %eax
	movw %ax, %fs
	movl $SEL_SNIP_GS, %eax
	movw %ax, %gs
	movl R(4), %esp
	pushl snip_io + SNIP_IO_RFLAGS
	popfl
	movl R(0), %eax
	movl R(1), %ecx
	movl R(2), %edx
	movl R(3), %ebx
	movl R(5), %ebp
	movl R(6), %esi
	movl R(7), %edi
	movl $-1, trap_vector
	jmp snip_slot32
snip_back32:
	movl %eax, R(0)
	movl %ecx, R(1)
	movl %edx, R(2)
	movl %ebx, R(3)
	movl %esp, R(4)
	movl %ebp, R(5)
	movl %esi, R(6)
	movl %edi, R(7)
	pushfl
	popl snip_io + SNIP_IO_RFLAGS
	cld
	movl snip_host_esp, %esp
	movl $SEL_KDATA, %eax
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movl %cr0, %eax
	andl $~CR0_PG, %eax
	movl %eax, %cr0
	movl trap_vector, %eax
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
	.pushsection .extable, "a"
	.long snip_slot32, snip_strip32_end
	.popsection

/* int snip_run16(void): a far call into the 16-bit code segment, with an
 * IDT of our own meanwhile: the library's handlers expect flat segments. */
	.globl snip_run16
snip_run16:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, snip_host_esp
	movl $-1, snip_vector
	sidt snip_saved_idt
	lidt snip_idt16_desc
	lcall $SEL_SNIP_CODE16, $0
snip_back16:
	lidt snip_saved_idt
	movl snip_vector, %eax
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/* Exceptions raised in the 16-bit code: flat segments, the stack of
 * snip_run16, and its return with the vector. */
	.balign 16
	.globl snip_trap16_stubs
snip_trap16_stubs:
	.set vec, 0
	.rept 32
	.balign 16
	movl $vec, %eax
	jmp snip_trap16
	.set vec, vec + 1
	.endr
snip_trap16:
	movl $SEL_KDATA, %ecx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	movl snip_host_esp, %esp
	movl %eax, snip_vector
	cld
	jmp snip_back16

/* The 16-bit code segment's base is snip16_start. Until DS is switched,
 * data is reached through the flat DS with 32-bit addresses. */
	.section .text.snip16, "ax"
	.code16
	.balign 16
	.globl snip16_start
snip16_start:
	addr32 movl %esp, snip_esp16
	addr32 pushl snip_io + SNIP_IO_RFLAGS
	popfl
	movw $SEL_SNIP_ES, %ax
	movw %ax, %es
	movw $SEL_SNIP_FS, %ax
	movw %ax, %fs
	movw $SEL_SNIP_GS, %ax
	movw %ax, %gs
	movw $SEL_SNIP_SS, %ax
	movw %ax, %ss
	addr32 movl R(4), %esp
	addr32 movl R(0), %eax
	addr32 movl R(1), %ecx
	addr32 movl R(2), %edx
	addr32 movl R(3), %ebx
	addr32 movl R(5), %ebp
	addr32 movl R(6), %esi
	addr32 movl R(7), %edi
	addr32 movw snip_sel_ds, %ds
	.globl snip_slot16
snip_slot16:
	.fill SNIP_SLOT_LEN, 1, 0x90
	STRIP
	/* CS-relative: the only segment whose base we know here. */
	movw %cs:(snip_flat16 - snip16_start), %ds
	addr32 movl %eax, R(0)
	addr32 movl %ecx, R(1)
	addr32 movl %edx, R(2)
	addr32 movl %ebx, R(3)
	addr32 movl %esp, R(4)
	addr32 movl %ebp, R(5)
	addr32 movl %esi, R(6)
	addr32 movl %edi, R(7)
	movw %cs:(snip_flat16 - snip16_start), %ss
	addr32 movl snip_esp16, %esp
	pushfl
	addr32 popl snip_io + SNIP_IO_RFLAGS
	movw %cs:(snip_flat16 - snip16_start), %es
	movw %cs:(snip_flat16 - snip16_start), %fs
	movw %cs:(snip_flat16 - snip16_start), %gs
	cld
	lretl
snip_flat16:
	.word SEL_KDATA

/* void snip_run64(struct snip_io *io), called in a visit to long mode. */
	.text
	.code64
	.globl snip_run64
snip_run64:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, SNIP_IO_HOST_SP(%rdi)
	movl $0xc0000100, %ecx /* FS.base */
	movl SNIP_IO_FS_BASE(%rdi), %eax
	movl SNIP_IO_FS_BASE + 4(%rdi), %edx
	wrmsr
	movl $0xc0000101, %ecx /* GS.base */
	movl SNIP_IO_GS_BASE(%rdi), %eax
	movl SNIP_IO_GS_BASE + 4(%rdi), %edx
	wrmsr
	movq 32(%rdi), %rsp
	pushq SNIP_IO_RFLAGS(%rdi)
	popfq
	movq 0(%rdi), %rax
	movq 8(%rdi), %rcx
	movq 16(%rdi), %rdx
	movq 24(%rdi), %rbx
	movq 40(%rdi), %rbp
	movq 48(%rdi), %rsi
	movq 64(%rdi), %r8
	movq 72(%rdi), %r9
	movq 80(%rdi), %r10
	movq 88(%rdi), %r11
	movq 96(%rdi), %r12
	movq 104(%rdi), %r13
	movq 112(%rdi), %r14
	movq 120(%rdi), %r15
	movq 56(%rdi), %rdi
	jmp snip_slot64
snip_back64:
	pushq %rax
	movl $snip_io, %eax
	movq %rcx, 8(%rax)
	movq %rdx, 16(%rax)
	movq %rbx, 24(%rax)
	movq %rbp, 40(%rax)
	movq %rsi, 48(%rax)
	movq %rdi, 56(%rax)
	movq %r8, 64(%rax)
	movq %r9, 72(%rax)
	movq %r10, 80(%rax)
	movq %r11, 88(%rax)
	movq %r12, 96(%rax)
	movq %r13, 104(%rax)
	movq %r14, 112(%rax)
	movq %r15, 120(%rax)
	popq %rcx
	movq %rcx, 0(%rax)
	movq %rsp, 32(%rax)
	pushfq
	popq %rcx
	movq %rcx, SNIP_IO_RFLAGS(%rax)
	cld
	movq SNIP_IO_HOST_SP(%rax), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* The slots of the 32- and 64-bit runners end 8 bytes past a page
 * boundary, so that longer instructions are fetched from two pages. */
	.balign 4096
	.skip 4096 - (SNIP_SLOT_LEN - 8)
	.code32
	.globl snip_slot32
snip_slot32:
	.fill SNIP_SLOT_LEN, 1, 0x90
	STRIP
snip_strip32_end:
	jmp snip_back32

	.code64
	.org snip_slot32 + 4096
	.globl snip_slot64
snip_slot64:
	.fill SNIP_SLOT_LEN, 1, 0x90
	STRIP
	jmp snip_back64

	.data
	.balign 4
snip_sel_ds:
	.word SEL_SNIP_DS
	.balign 4
	.word 0
snip_saved_idt:
	.word 0
	.long 0

	.bss
	.balign 4
snip_host_esp:
	.long 0
snip_esp16:
	.long 0
	.globl snip_vector
snip_vector:
	.long 0
