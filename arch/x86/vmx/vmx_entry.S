/* int vmx_enter(u64 *gprs, bool resume)
 * One round trip into the guest. VM entry and exit switch RSP, RIP,
 * RFLAGS, control and segment registers, EFER, PAT and the debug
 * controls from the VMCS; the general registers are switched here, from
 * and to gprs[] (enum x86_gpr order; RSP lives in the VMCS). The exit
 * lands on vmx_exit_point (HOST_RIP) with lamina's stack as it was at
 * entry (HOST_RSP, written here) and returns 0; a VMLAUNCH/VMRESUME that
 * fails falls through and returns 1 (VMfailInvalid) or 2 (VMfailValid).
 * Interrupts stay disabled in lamina: a VM exit clears RFLAGS.IF. */
#include <x86/world_switch.h>
#define VMCS_HOST_RSP 0x6c14

	.text
	.globl vmx_enter
vmx_enter:
	HOST_CALLEE_SAVED_PUSH
	pushq %rdi                 /* gprs, for the way back */
	movl $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	testb %sil, %sil           /* ZF: first entry; MOVs below keep the flags */
	movq GPR(0)(%rdi), %rax
	GUEST_GPRS_LOAD %rdi
	movq GPR(7)(%rdi), %rdi
	jz 1f
	vmresume
	jmp 2f
1:	vmlaunch
2:	/* Entry failed: CF set for VMfailInvalid, ZF for VMfailValid. The
	 * guest's registers in gprs[] are unchanged. */
	movl $1, %eax
	jc 3f
	movl $2, %eax
3:	addq $8, %rsp
	jmp 4f

	.globl vmx_exit_point
vmx_exit_point:
	pushq %rdi
	movq 8(%rsp), %rdi         /* gprs, above the guest's RDI */
	movq %rax, GPR(0)(%rdi)
	GUEST_GPRS_SAVE %rdi
	popq GPR(7)(%rdi)
	addq $8, %rsp
	xorl %eax, %eax
4:	HOST_CALLEE_SAVED_POP
	ret

/* void vmx_unblock_nmi(void)
 * A VM exit caused by an NMI leaves NMIs blocked until the next IRET:
 * IRET to the caller, so lamina takes (and passes on) the next NMI. */
	.globl vmx_unblock_nmi
vmx_unblock_nmi:
	movq %rsp, %rax
	movl %ss, %ecx
	pushq %rcx
	pushq %rax
	pushfq
	movl %cs, %ecx
	pushq %rcx
	leaq 1f(%rip), %rax
	pushq %rax
	iretq
1:	ret
