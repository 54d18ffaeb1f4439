/* VMCS field encodings (Intel SDM Vol. 3, appendix B) and the VMREAD /
 * VMWRITE accessors. Only the fields lamina uses are named. */
#ifndef VMX_VMCS_H
#define VMX_VMCS_H

#include <core/types.h>

/* 16-bit fields. */
#define VMCS_VPID 0x0000
#define VMCS_GUEST_SEL(i) (0x0800 + 2 * (i)) /* ES CS SS DS FS GS LDTR TR */
#define VMCS_HOST_ES_SEL 0x0c00
#define VMCS_HOST_CS_SEL 0x0c02
#define VMCS_HOST_SS_SEL 0x0c04
#define VMCS_HOST_DS_SEL 0x0c06
#define VMCS_HOST_FS_SEL 0x0c08
#define VMCS_HOST_GS_SEL 0x0c0a
#define VMCS_HOST_TR_SEL 0x0c0c

/* 64-bit fields. */
#define VMCS_IO_BITMAP_A 0x2000
#define VMCS_IO_BITMAP_B 0x2002
#define VMCS_MSR_BITMAP 0x2004
#define VMCS_EXIT_MSR_STORE_ADDR 0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR 0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR 0x200a
#define VMCS_TSC_OFFSET 0x2010
#define VMCS_EPTP 0x201a
#define VMCS_XSS_EXIT_BITMAP 0x202c
#define VMCS_GUEST_PHYS_ADDR 0x2400
#define VMCS_LINK_POINTER 0x2800
#define VMCS_GUEST_DEBUGCTL 0x2802
#define VMCS_GUEST_PAT 0x2804
#define VMCS_GUEST_EFER 0x2806
#define VMCS_GUEST_PDPTE(i) (0x280a + 2 * (i))
#define VMCS_HOST_PAT 0x2c00
#define VMCS_HOST_EFER 0x2c02

/* 32-bit fields. */
#define VMCS_PIN_CTLS 0x4000
#define VMCS_PROC_CTLS 0x4002
#define VMCS_EXCEPTION_BITMAP 0x4004
#define VMCS_PF_ERROR_MASK 0x4006
#define VMCS_PF_ERROR_MATCH 0x4008
#define VMCS_CR3_TARGET_COUNT 0x400a
#define VMCS_EXIT_CTLS 0x400c
#define VMCS_EXIT_MSR_STORE_COUNT 0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT 0x4010
#define VMCS_ENTRY_CTLS 0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT 0x4014
#define VMCS_ENTRY_INTR_INFO 0x4016
#define VMCS_ENTRY_EXC_ERROR 0x4018
#define VMCS_ENTRY_INSN_LEN 0x401a
#define VMCS_PROC_CTLS2 0x401e
#define VMCS_INSN_ERROR 0x4400
#define VMCS_EXIT_REASON 0x4402
#define VMCS_EXIT_INTR_INFO 0x4404
#define VMCS_EXIT_INTR_ERROR 0x4406
#define VMCS_IDT_VECTORING_INFO 0x4408
#define VMCS_IDT_VECTORING_ERROR 0x440a
#define VMCS_EXIT_INSN_LEN 0x440c
#define VMCS_GUEST_LIMIT(i) (0x4800 + 2 * (i))
#define VMCS_GUEST_GDTR_LIMIT 0x4810
#define VMCS_GUEST_IDTR_LIMIT 0x4812
#define VMCS_GUEST_AR(i) (0x4814 + 2 * (i))
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824
#define VMCS_GUEST_ACTIVITY 0x4826
#define VMCS_GUEST_SYSENTER_CS 0x482a
#define VMCS_PREEMPTION_TIMER 0x482e
#define VMCS_HOST_SYSENTER_CS 0x4c00

/* Natural-width fields. */
#define VMCS_CR0_MASK 0x6000
#define VMCS_CR4_MASK 0x6002
#define VMCS_CR0_SHADOW 0x6004
#define VMCS_CR4_SHADOW 0x6006
#define VMCS_EXIT_QUALIFICATION 0x6400
#define VMCS_GUEST_LINEAR_ADDR 0x640a
#define VMCS_GUEST_CR0 0x6800
#define VMCS_GUEST_CR3 0x6802
#define VMCS_GUEST_CR4 0x6804
#define VMCS_GUEST_BASE(i) (0x6806 + 2 * (i))
#define VMCS_GUEST_GDTR_BASE 0x6816
#define VMCS_GUEST_IDTR_BASE 0x6818
#define VMCS_GUEST_DR7 0x681a
#define VMCS_GUEST_RSP 0x681c
#define VMCS_GUEST_RIP 0x681e
#define VMCS_GUEST_RFLAGS 0x6820
#define VMCS_GUEST_PENDING_DBG 0x6822
#define VMCS_GUEST_SYSENTER_ESP 0x6824
#define VMCS_GUEST_SYSENTER_EIP 0x6826
#define VMCS_HOST_CR0 0x6c00
#define VMCS_HOST_CR3 0x6c02
#define VMCS_HOST_CR4 0x6c04
#define VMCS_HOST_FS_BASE 0x6c06
#define VMCS_HOST_GS_BASE 0x6c08
#define VMCS_HOST_TR_BASE 0x6c0a
#define VMCS_HOST_GDTR_BASE 0x6c0c
#define VMCS_HOST_IDTR_BASE 0x6c0e
#define VMCS_HOST_SYSENTER_ESP 0x6c10
#define VMCS_HOST_SYSENTER_EIP 0x6c12
#define VMCS_HOST_RSP 0x6c14 /* also used by vmx_entry.S */
#define VMCS_HOST_RIP 0x6c16

/* Guest segment registers by VMCS index: enum x86_seg, then these two. */
#define VMCS_SEG_LDTR 6
#define VMCS_SEG_TR 7

/* Segment access rights: the descriptor's attribute bits 40-47 and
 * 52-55, plus "unusable" (a null selector loaded in protected mode). */
#define VMX_AR_UNUSABLE BIT(16)

/* Guest activity states and interruptibility bits. */
#define VMX_ACTIVITY_ACTIVE 0
#define VMX_ACTIVITY_HLT 1
#define VMX_ACTIVITY_WAIT_SIPI 3
#define VMX_BLOCK_STI BIT(0)
#define VMX_BLOCK_MOVSS BIT(1)
#define VMX_BLOCK_SMI BIT(2)
#define VMX_BLOCK_NMI BIT(3)
#define VMX_PENDING_DBG_BS BIT(14) /* pending debug exceptions: single step */

/* VM-entry interruption information and IDT-vectoring information. */
#define VMX_INTR_VECTOR(i) ((i) & 0xff)
#define VMX_INTR_TYPE(i) (((i) >> 8) & 7)
#define VMX_INTR_ERROR_VALID BIT(11)
#define VMX_INTR_NMI_UNBLOCKED BIT(12) /* exit info: IRET unblocked NMIs */
#define VMX_INTR_VALID BIT(31)
#define VMX_INTR_TYPE_NMI 2
#define VMX_INTR_TYPE_PRIV_SW 5 /* INT1 (ICEBP) */

/* Called when VMREAD/VMWRITE fails: a field this CPU lacks (a bug). */
void vmcs_field_error(u32 field, bool write);

static inline u64 vmread(u32 field)
{
	u64 val;
	bool fail;

	__asm__ volatile("vmread %2, %0; setna %1"
			 : "=r"(val), "=qm"(fail)
			 : "r"((u64)field)
			 : "cc");
	if (unlikely(fail))
		vmcs_field_error(field, false);
	return val;
}

static inline void vmwrite(u32 field, u64 val)
{
	bool fail;

	__asm__ volatile("vmwrite %1, %2; setna %0"
			 : "=qm"(fail)
			 : "rm"(val), "r"((u64)field)
			 : "cc", "memory");
	if (unlikely(fail))
		vmcs_field_error(field, true);
}

/* VMCLEAR / VMPTRLD / VMXON of a region at a physical address; 0 or -1. */
#define VMX_PA_INSN(name, insn)                                               \
	static inline int name(u64 pa)                                        \
	{                                                                     \
		bool fail;                                                    \
		__asm__ volatile(insn " %1; setna %0"                         \
				 : "=qm"(fail)                                \
				 : "m"(pa)                                    \
				 : "cc", "memory");                           \
		return fail ? -1 : 0;                                         \
	}
VMX_PA_INSN(vmxon, "vmxon")
VMX_PA_INSN(vmclear, "vmclear")
VMX_PA_INSN(vmptrld, "vmptrld")
#undef VMX_PA_INSN

#endif
