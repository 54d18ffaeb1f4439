/* First instructions of lamina: entered in 32-bit protected mode, paging
 * off, by a Multiboot1 loader (QEMU -kernel; EAX = 0x2badb002) or a
 * Multiboot2 loader (GRUB multiboot2; EAX = 0x36d76289), EBX = boot
 * information. Builds boot page tables (low 4 GiB identity, the same at
 * the direct-map base, the image in the top 2 GiB), enters long mode and
 * calls boot_main(magic, info) on the boot stack. */
#include <x86/boot_layout.h>

#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00010003 /* page-aligned modules, memory info, a.out kludge */
#define MB2_MAGIC 0xe85250d6

#define PHYS(sym) ((sym) - KERNEL_VBASE)

	.section .multiboot, "a"
	.balign 8
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header       /* header_addr: .boot is linked at its load address */
	.long LOAD_PHYS        /* load_addr: file offset 0 */
	.long _load_end_phys
	.long _bss_end_phys
	.long boot_entry32

	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long 0                /* i386 protected mode */
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_MAGIC + (mb2_header_end - mb2_header))
	.balign 8
	.word 3, 0             /* entry address tag */
	.long 12
	.long boot_entry32
	.balign 8
	.word 6, 0             /* module alignment tag: page-aligned modules */
	.long 8
	.balign 8
	.word 0, 0             /* end tag */
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.globl boot_entry32
boot_entry32:
	cli
	cld
	movl %eax, %edi                  /* keep magic and info for boot_main */
	movl %ebx, %esi
	movl $PHYS(boot_stack_top), %esp

	/* A CPU without long mode cannot run lamina: say so on COM1. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* PD entries: 2048 x 2 MiB identity pages covering 0 - 4 GiB. */
	movl $PHYS(boot_pd), %ebx
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax                  /* present, writable, 2 MiB */
	movl %eax, (%ebx, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax                   /* bits 32+ of the address */
	movl %eax, 4(%ebx, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jne 1b

	/* PDPT for the low 4 GiB: four PDs. */
	movl $PHYS(boot_pdpt_low), %ebx
	movl $PHYS(boot_pd) + 0x3, %eax
	movl %eax, 0(%ebx)
	addl $0x1000, %eax
	movl %eax, 8(%ebx)
	addl $0x1000, %eax
	movl %eax, 16(%ebx)
	addl $0x1000, %eax
	movl %eax, 24(%ebx)

	/* Top PDPT: slot 510 maps KERNEL_VBASE to physical 0 (first PD). */
	movl $PHYS(boot_pdpt_high), %ebx
	movl $PHYS(boot_pd) + 0x3, %eax
	movl %eax, 510 * 8(%ebx)

	movl $PHYS(boot_pml4), %ebx
	movl $PHYS(boot_pdpt_low) + 0x3, %eax
	movl %eax, 0(%ebx)                       /* identity, for this code */
	movl %eax, PML4_SLOT_DIRECT_MAP * 8(%ebx) /* direct map of low memory */
	movl $PHYS(boot_pdpt_high) + 0x3, %eax
	movl %eax, 511 * 8(%ebx)

	movl %cr4, %eax
	orl $0x20, %eax                  /* PAE */
	movl %eax, %cr4
	movl %ebx, %cr3
	movl $0xc0000080, %ecx           /* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax            /* PG, WP, PE */
	movl %eax, %cr0
	lgdt boot_gdt_desc
	ljmp $0x08, $long_mode

no_long_mode:
	movl $no_lm_msg, %esi
	movw $0x3f8, %dx
2:	lodsb
	testb %al, %al
	jz 3f
	outb %al, %dx
	jmp 2b
3:	hlt
	jmp 3b

	.code64
long_mode:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movabsq $boot_main, %rax
	callq *%rax
4:	hlt
	jmp 4b

	.section .boot.data, "aw"
no_lm_msg:
	.asciz "lamina: this CPU has no 64-bit long mode; lamina needs one\r\n"
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff         /* 64-bit code */
	.quad 0x00cf92000000ffff         /* data */
boot_gdt_desc:
	.word boot_gdt_desc - boot_gdt - 1
	.long boot_gdt

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4: .skip 4096
boot_pdpt_low: .skip 4096
boot_pdpt_high: .skip 4096
boot_pd: .skip 4 * 4096
	.globl boot_stack_top
boot_stack: .skip BOOT_STACK_SIZE
boot_stack_top:
