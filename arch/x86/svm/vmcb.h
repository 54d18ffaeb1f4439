/* The AMD virtual machine control block (AMD64 APM vol. 2, appendix B). */
#ifndef SVM_VMCB_H
#define SVM_VMCB_H

#include <core/types.h>

struct vmcb_seg {
	u16 sel, attr;
	u32 limit;
	u64 base;
} __packed;

struct vmcb_control {
	u32 intercept_cr;        /* 0x000: reads 0-15, writes 16-31 */
	u32 intercept_dr;
	u32 intercept_exc;
	u32 intercept_misc1;     /* 0x00c */
	u32 intercept_misc2;     /* 0x010 */
	u32 intercept_misc3;
	u8 reserved0[0x3c - 0x18];
	u16 pause_filter_thresh, pause_filter_count;
	u64 iopm_pa;             /* 0x040 */
	u64 msrpm_pa;
	u64 tsc_offset;
	u32 asid;                /* 0x058 */
	u8 tlb_control, reserved1[3];
	u64 int_ctl;             /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING ... */
	u64 int_state;           /* 0x068: interrupt shadow */
	u64 exit_code;           /* 0x070 */
	u64 exit_info1, exit_info2;
	u64 exit_int_info;       /* 0x088 */
	u64 nested_ctl;          /* 0x090: bit 0 NP_ENABLE */
	u64 avic_bar, ghcb;
	u64 event_inj;           /* 0x0a8 */
	u64 nested_cr3;          /* 0x0b0 */
	u64 virt_ext;
	u32 clean, reserved2;    /* 0x0c0 */
	u64 next_rip;            /* 0x0c8 */
	u8 insn_len, insn_bytes[15];
	u8 reserved3[0x400 - 0xe0];
} __packed;

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 */
	u8 reserved0[0x4cb - 0x4a0];
	u8 cpl;                  /* 0x4cb */
	u32 reserved1;
	u64 efer;                /* 0x4d0 */
	u8 reserved2[0x548 - 0x4d8];
	u64 cr4, cr3, cr0, dr7, dr6, rflags, rip; /* 0x548 */
	u8 reserved3[0x5d8 - 0x580];
	u64 rsp;                 /* 0x5d8 */
	u8 reserved4[0x5f8 - 0x5e0];
	u64 rax;                 /* 0x5f8 */
	u64 star, lstar, cstar, sfmask, kernel_gs_base;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 cr2;                 /* 0x640 */
	u8 reserved5[0x668 - 0x648];
	u64 g_pat;               /* 0x668 */
	u64 dbgctl;
	u8 reserved6[0x1000 - 0x678];
} __packed;

struct vmcb {
	struct vmcb_control ctl;
	struct vmcb_save save;
} __packed;

STATIC_ASSERT(sizeof(struct vmcb) == 4096, "VMCB is one page");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, ctl.nested_cr3) == 0xb0, "VMCB N_CR3");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.cpl) == 0x4cb, "VMCB CPL");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.rip) == 0x578, "VMCB RIP");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.rax) == 0x5f8, "VMCB RAX");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.g_pat) == 0x668, "VMCB G_PAT");

/* intercept_misc1 */
#define SVM_INTERCEPT_INTR BIT(0)
#define SVM_INTERCEPT_NMI BIT(1)
#define SVM_INTERCEPT_INIT BIT(3)
#define SVM_INTERCEPT_CPUID BIT(18)
#define SVM_INTERCEPT_IRET BIT(20)
#define SVM_INTERCEPT_INVD BIT(22)
#define SVM_INTERCEPT_INVLPGA BIT(26)
#define SVM_INTERCEPT_IOIO BIT(27)
#define SVM_INTERCEPT_MSR BIT(28)
#define SVM_INTERCEPT_SHUTDOWN BIT(31)
/* intercept_misc2 */
#define SVM_INTERCEPT_VMRUN BIT(0)
#define SVM_INTERCEPT_VMMCALL BIT(1)
#define SVM_INTERCEPT_VMLOAD BIT(2)
#define SVM_INTERCEPT_VMSAVE BIT(3)
#define SVM_INTERCEPT_STGI BIT(4)
#define SVM_INTERCEPT_CLGI BIT(5)
#define SVM_INTERCEPT_SKINIT BIT(6)
#define SVM_INTERCEPT_WBINVD BIT(9)

/* Exit codes. */
#define SVM_EXIT_EXCP_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_IRET 0x74
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_WBINVD 0x89
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID ((u64)-1)

/* int_state */
#define SVM_INT_SHADOW BIT(0) /* the shadow of STI or MOV SS */

/* Event injection / exit interrupt info. */
#define SVM_EVT_VALID BIT(31)
#define SVM_EVT_ERROR_VALID BIT(11)
#define SVM_EVT_TYPE_SHIFT 8

#define VM_CR_LOCK BIT(3)
#define VM_CR_SVMDIS BIT(4)

#endif
