/* The AP trampoline. It runs at CS:0 = vector:0 in real mode, wherever it
 * was copied, so it addresses its own data relative to DS = CS. The data
 * (GDT pointer, far pointer) hold link-time addresses: no patching. */
#include "ap.h"
#include "desc.h"

	.text
	.code16
	.globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl ap_tramp_gdtr - ap_tramp_start
	/* Protected mode; an AP leaves INIT with caching off: turn it on. */
	movl %cr0, %eax
	andl $~0x60000000, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl *(ap_tramp_far - ap_tramp_start)

	.balign 4
ap_tramp_gdtr:
	.word gdt_limit
	.long gdt
ap_tramp_far:
	.long ap_entry32
	.word SEL_KCODE
ap_tramp_end:

	.code32
ap_entry32:
	movl $SEL_KDATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	/* A stack of our own: the next free one. */
	movl $1, %eax
	lock xaddl %eax, ap_next_stack
	cmpl $AP_MAX, %eax
	jae 2f
	incl %eax
	shll $12, %eax
	leal ap_stacks(%eax), %esp
	call ap_main
2:	cli
	hlt
	jmp 2b
