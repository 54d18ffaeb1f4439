/* Multiboot1 header and entry: record the state the loader left (the test
 * of lamina's boot contract reads it), set up our own stack and GDT, then
 * hand over to C. */
#include "desc.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* 4 KiB-aligned modules, memory info + map */

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.globl _start
_start:
	cli
	cld
	movl %eax, boot_magic
	movl %ebx, boot_mbi
	movl %cr0, %eax
	movl %eax, boot_cr0
	movl %cr4, %eax
	movl %eax, boot_cr4
	/* The loader gives us no stack: ESP is undefined. */
	movl $boot_stack_top, %esp
	pushfl
	popl boot_eflags

	/* Zero .bss ourselves: whether the loader did is not under test. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/* The loader's GDT may be gone already (Multiboot says so). */
	lgdt gdt_desc
	ljmp $SEL_KCODE, $1f
1:	movl $SEL_KDATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	call kernel_start
2:	cli
	hlt
	jmp 2b

	.data
	.balign 4
	.globl boot_magic, boot_mbi, boot_cr0, boot_cr4, boot_eflags
boot_magic:	.long 0
boot_mbi:	.long 0
boot_cr0:	.long 0
boot_cr4:	.long 0
boot_eflags:	.long 0

	.balign 8
	.globl gdt, gdt_desc, gdt_limit
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* SEL_KCODE */
	.quad 0x00cf92000000ffff	/* SEL_KDATA */
	.quad 0x00cffa000000ffff	/* SEL_UCODE */
	.quad 0x00cff2000000ffff	/* SEL_UDATA */
	.quad 0				/* SEL_TSS, filled in by trap_init */
	.quad 0x00af9a000000ffff	/* SEL_KCODE64 */
gdt_end:
	.set gdt_limit, gdt_end - gdt - 1	/* for the AP trampoline */
	.balign 4
	.word 0
gdt_desc:
	.word gdt_limit
	.long gdt

	.bss
	.balign 16
boot_stack:
	.skip 16384
boot_stack_top:
