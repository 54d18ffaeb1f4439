/* AP start-up code, copied by the boot CPU to a free page below 1 MiB
 * (the SIPI vector). It runs position-independently: EBX holds its own
 * physical base throughout. Real mode -> 32-bit protected mode -> long
 * mode on a temporary PML4 that identity-maps the low 2 MiB and shares
 * lamina's upper half -> jump to ap_entry64 on the AP's stack.
 * The boot CPU fills in the fields marked "patched" (see smp_boot.c). */
#define OFF(x) ((x) - trampoline_start)

	.section .rodata
	.balign 16
	.globl trampoline_start, trampoline_end
	.globl tramp_far32, tramp_far64, tramp_gdt_desc, tramp_cr3, tramp_efer
	.globl tramp_entry, tramp_stack, tramp_cpu
	.code16
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	movzwl %ax, %ebx
	shll $4, %ebx                      /* our physical base */
	lgdtl OFF(tramp_gdt_desc)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl *OFF(tramp_far32)

	.code32
tramp32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $0x20, %eax                    /* PAE */
	movl %eax, %cr4
	movl OFF(tramp_cr3)(%ebx), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx             /* EFER: LME (and NXE if patched in) */
	rdmsr
	orl OFF(tramp_efer)(%ebx), %eax
	wrmsr
	movl %cr0, %eax
	andl $0x9fffffff, %eax             /* caches on: CD, NW (set by INIT) clear */
	orl $0x80010021, %eax              /* PG, WP, NE, PE */
	movl %eax, %cr0
	ljmpl *OFF(tramp_far64)(%ebx)

	.code64
tramp64:
	movq OFF(tramp_stack)(%rbx), %rsp
	movq OFF(tramp_cpu)(%rbx), %rdi
	movq OFF(tramp_entry)(%rbx), %rax
	xorl %ebp, %ebp
	jmpq *%rax

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff           /* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff           /* 0x10: data */
	.quad 0x00af9a000000ffff           /* 0x18: 64-bit code */
tramp_gdt_desc:
	.word tramp_gdt_desc - tramp_gdt - 1
	.long OFF(tramp_gdt)               /* patched: + base */
tramp_far32:
	.long OFF(tramp32)                 /* patched: + base */
	.word 0x08
tramp_far64:
	.long OFF(tramp64)                 /* patched: + base */
	.word 0x18
	.balign 8
tramp_cr3: .quad 0                     /* patched: temporary PML4 */
tramp_efer: .quad 0                    /* patched: EFER bits to set */
tramp_entry: .quad 0                   /* patched: ap_entry64 */
tramp_stack: .quad 0                   /* patched per AP */
tramp_cpu: .quad 0                     /* patched per AP: struct cpu * */
trampoline_end:

/* First instructions of an AP in lamina's own address space. */
	.text
	.globl ap_entry64
ap_entry64:
	movq host_cr3(%rip), %rax
	movq %rax, %cr3
	call ap_start
1:	cli
	hlt
	jmp 1b

/* The boot CPU back from a sleep state, through the trampoline at the
 * waking vector firmware jumped to (core/suspend.c). */
	.globl wake_entry64
wake_entry64:
	movq host_cr3(%rip), %rax
	movq %rax, %cr3
	call suspend_wake
1:	cli
	hlt
	jmp 1b
