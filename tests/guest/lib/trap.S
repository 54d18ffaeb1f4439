/* Exception entry stubs and the switch to ring 3 and back. */
#include "desc.h"

	.text
/* One 16-byte stub per exception vector; the CPU pushes an error code
 * for some vectors only, the others push a 0 to keep one frame layout. */
	.balign 16
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 32
	.balign 16
	.if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
	.else
	pushl $0
	.endif
	pushl $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	cld
	pushal
	pushl %esp
	call trap_dispatch
	addl $4, %esp
	popal
	addl $8, %esp
	iretl

/* void ring3_run(void (*fn)(void)): IRET to ring 3 at ring3_stub with fn
 * in EAX; ring3_stub calls it, then INT RING3_EXIT_VECTOR lands in
 * ring3_exit, which returns from ring3_run on the saved stack. */
	.globl ring3_run
ring3_run:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, ring3_saved_esp
	movl 20(%esp), %eax
	movl $(SEL_UDATA | 3), %edx
	movw %dx, %ds
	movw %dx, %es
	movw %dx, %fs
	movw %dx, %gs
	pushl %edx
	pushl $ring3_stack_top
	pushfl
	pushl $(SEL_UCODE | 3)
	pushl $ring3_stub
	iretl

ring3_stub:
	call *%eax
	int $RING3_EXIT_VECTOR

	.globl ring3_exit
ring3_exit:
	movl $SEL_KDATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movl ring3_saved_esp, %esp
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

	.bss
	.balign 4
ring3_saved_esp:
	.long 0
	.balign 16
	.skip 8192
ring3_stack_top:
