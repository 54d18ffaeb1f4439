/* Private to the VT-x back end. */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <core/vcpu.h>
#include "ept.h"
#include "feature_control.h"
#include "vmcs.h"

/* Capability MSRs (hidden from the guest by core/msr.c). */
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_PROCBASED 0x482
#define MSR_VMX_EXIT 0x483
#define MSR_VMX_ENTRY 0x484
#define MSR_VMX_MISC 0x485
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT 0x48f
#define MSR_VMX_TRUE_ENTRY 0x490
#define VMX_BASIC_32BIT_ADDRS BIT(48)
#define VMX_BASIC_TRUE_CTLS BIT(55)
#define VMX_MISC_SAVES_LMA BIT(5)
#define VMX_MISC_WAIT_SIPI BIT(8)

/* Pin-based controls. */
#define PIN_NMI_EXITING BIT(3)
#define PIN_VIRTUAL_NMIS BIT(5)
#define PIN_PREEMPTION_TIMER BIT(6)
/* Primary processor-based controls. */
#define PROC_INTR_WINDOW BIT(2)
#define PROC_NMI_WINDOW BIT(22)
#define PROC_IO_BITMAPS BIT(25)
#define PROC_MSR_BITMAPS BIT(28)
#define PROC_SECONDARY BIT(31)
/* Secondary processor-based controls. */
#define PROC2_EPT BIT(1)
#define PROC2_RDTSCP BIT(3)
#define PROC2_VPID BIT(5)
#define PROC2_WBINVD_EXITING BIT(6)
#define PROC2_UNRESTRICTED BIT(7)
#define PROC2_INVPCID BIT(12)
#define PROC2_XSAVES BIT(20)
#define PROC2_USER_WAIT BIT(26)
/* VM-exit controls. */
#define EXIT_SAVE_DEBUG BIT(2)
#define EXIT_HOST_64 BIT(9)
#define EXIT_SAVE_PAT BIT(18)
#define EXIT_LOAD_PAT BIT(19)
#define EXIT_SAVE_EFER BIT(20)
#define EXIT_LOAD_EFER BIT(21)
/* VM-entry controls. */
#define ENTRY_LOAD_DEBUG BIT(2)
#define ENTRY_IA32E_GUEST BIT(9)
#define ENTRY_LOAD_PAT BIT(14)
#define ENTRY_LOAD_EFER BIT(15)

/* IA32_VMX_EPT_VPID_CAP. */
#define EPT_CAP_WALK4 BIT(6)
#define EPT_CAP_UC BIT(8)
#define EPT_CAP_WB BIT(14)
#define EPT_CAP_2M BIT(16)
#define EPT_CAP_1G BIT(17)
#define EPT_CAP_INVEPT BIT(20)
#define EPT_CAP_INVEPT_SINGLE BIT(25)
#define EPT_CAP_INVEPT_ALL BIT(26)
#define VPID_CAP_INVVPID BIT(32)
#define VPID_CAP_INVVPID_SINGLE BIT(41)
#define VPID_CAP_INVVPID_ALL BIT(42)

/* What this CPU's VT-x offers and the controls lamina runs with, read
 * once on the boot CPU (every CPU of a machine reports the same). */
struct vmx_caps {
	u32 revision;
	u32 pin, proc, proc2, exit, entry; /* adjusted to the allowed settings */
	u32 proc_may;                      /* allowed 1-settings (NMI window) */
	u32 pin_may;                       /* allowed 1-settings (preemption timer) */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 cr0_owned, cr4_owned;          /* guest/host masks: bits lamina fixes */
	u64 ept_vpid;
	u8 eptp_memtype;
	bool saves_lma;                    /* VM exits store EFER.LMA in the entry controls */
};
extern struct vmx_caps vmx_caps;

struct vmx_vcpu {
	void *vmcs;
	u64 vmcs_pa;
	u64 eptp;
	u16 vpid;
	bool launched;            /* VMRESUME from now on */
	bool waiting_sipi;        /* guest activity state wait-for-SIPI */
	bool fresh;               /* reset, not entered since */
	bool event_set;           /* an event is in the entry interruption field */
	bool vmcs_current;        /* VMPTRLD done: the NMI handler may write it */
	bool nmi_queued;          /* an NMI for the guest, held until it can take it */
	u32 proc;                 /* current primary controls (NMI window toggles) */
	u64 exit_rip;             /* guest RIP at the last exit */
	u8 event_insn_len;        /* length of the INT n an exit interrupted */
	u64 cr0_shadow, cr4_shadow; /* the guest's own values of the owned bits */
};

/* vmx_caps.c */
const char *vmx_read_caps(void);

/* vmx.c */
u64 vmx_msr_bitmap_pa(void);
u64 vmx_io_bitmap_pa(unsigned int which);

/* vmx_state.c: guest registers and segments (struct segment: AMD layout) */
u64 vmx_get_reg(struct vcpu *v, enum guest_reg r);
void vmx_set_efer(struct vcpu *v, u64 efer);
void vmx_set_cr2(struct vcpu *v, u64 cr2);
void vmx_get_seg(struct vcpu *v, enum x86_seg seg, struct segment *out);
void vmx_set_seg(unsigned int i, u16 sel, u64 base, u32 limit, u16 attr);
void vmx_load_seg(struct vcpu *v, enum x86_seg seg, const struct segment *in);
void vmx_get_sys_seg(struct vcpu *v, enum guest_sys_seg s, struct segment *out);
void vmx_set_sys_seg(struct vcpu *v, enum guest_sys_seg s, const struct segment *in);
int vmx_set_cr(struct vcpu *v, enum guest_reg r, u64 val);
unsigned int vmx_cpl(struct vcpu *v);

/* vmcs_setup.c */
int vmcs_setup(struct vcpu *v, u64 nested_root);
void vmx_reset(struct vcpu *v, const struct vcpu_reset *r);
void vmx_wait_for_sipi(struct vcpu *v);

/* vmx_cr.c */
void vmx_load_cr0(struct vmx_vcpu *x, u64 val);
void vmx_load_cr4(struct vmx_vcpu *x, u64 val);
u64 vmx_guest_cr0(struct vmx_vcpu *x);
u64 vmx_guest_cr4(struct vmx_vcpu *x);
void vmx_load_efer(u64 efer);
int vmx_load_pdptes(u64 cr3);
bool vmx_pae_pdpte(struct vcpu *v, unsigned int i, u64 *pdpte);
void vmx_cr_access(struct vcpu *v);

/* vmx_event.c */
void vmx_inject(struct vcpu *v, enum event_type type, u8 vector, bool has_error,
		u32 error);
void vmx_debug_trap(struct vcpu *v, u64 dr6);
void vmx_debug_exit(struct vcpu *v, u32 info);
void vmx_set_blocking(struct vcpu *v, enum nmi_blocking nmi);
void vmx_events_before_entry(struct vcpu *v);
void vmx_events_after_exit(struct vcpu *v);
void vmx_iret_reblock_nmi(struct vcpu *v, u64 info);
void vmx_nmi_missed(struct vcpu *v);
void vmx_kick_exit(void);

/* vmx_exit.c */
void vmx_run(struct vcpu *v);
void vmx_handle_private(struct vcpu *v);

/* vmx_dump.c */
#define VMX_NO_CURRENT_VMCS 0xffffffffu
void vmx_report_entry_failure(struct vcpu *v, u32 insn_error);

/* vmx_tlb.c */
void ept_flush(struct vcpu *v);
void vpid_flush(struct vcpu *v);

/* vmx_entry.S */
int vmx_enter(u64 *gprs, bool resume); /* 0 after an exit; 1/2 VMfailInvalid/Valid */
extern const char vmx_exit_point[];
void vmx_unblock_nmi(void);

#endif
