/* The guest CPU as vendor-neutral code sees it, and the small interface
 * the VT-x and AMD-V back ends implement. Generic code never says VMCS or
 * VMCB: it reads exits as struct vm_exit and changes the guest through
 * struct vendor_ops. */
#ifndef CORE_VCPU_H
#define CORE_VCPU_H

#include <core/cpu.h>
#include <lamina/hypercall.h>
#include <x86/emulate.h>
#include <x86/pagetable.h>

enum vcpu_state {
	VCPU_WAIT_INIT,  /* AP before the guest's INIT */
	VCPU_WAIT_SIPI,  /* AP after INIT, before SIPI */
	VCPU_STARTING,   /* AP given a SIPI vector, not yet entered */
	VCPU_RUNNING,
	VCPU_STOPPED,    /* guest stopped (triple fault, fatal guest error) */
};

/* A segment register in the AMD VMCB attribute layout (type, S, DPL, P,
 * AVL, L, D/B, G in bits 0-11); the VT-x back end converts. */
struct segment {
	u16 sel;
	u16 attr;
	u32 limit;
	u64 base;
};

#define SEG_ATTR_TYPE(a) ((a) & 0xf)
#define SEG_ATTR_S BIT(4)
#define SEG_ATTR_DPL(a) (((a) >> 5) & 3)
#define SEG_ATTR_P BIT(7)
#define SEG_ATTR_L BIT(9)
#define SEG_ATTR_DB BIT(10)
#define SEG_ATTR_G BIT(11)

struct vm_exit {
	enum lamina_exit_reason reason;
	u8 insn_len;          /* 0 when the CPU did not tell (AMD without NRIPS) */
	u64 vendor_code;      /* the raw exit code, for messages */
	union {
		struct {
			u64 gpa;
			bool write, fetch;
			bool in_walk;     /* while the CPU walked the guest's page tables */
		} npf;
		struct {
			u16 port;
			u8 size;
			bool in, string, rep;
		} io;
		struct {
			u8 vector;
		} sipi;
		struct {
			u16 sel;      /* the new task's TSS selector */
			u8 source;    /* enum task_switch_source */
		} task_switch;
		struct {
			u8 vector;
			bool has_error;
			u32 error;
			u64 cr2;      /* #PF: its address (CR2 not yet written) */
			/* VT-x exits at an INT1 (ICEBP), before the #DB it
			 * raises as a trap: its length, to step over. */
			u8 int1_len;
		} exception;
	};
	/* An event the guest was receiving when the exit happened; it must be
	 * delivered again (both vendors report it). */
	bool event_pending;
	u8 event_type, event_vector;
	bool event_has_error;
	u32 event_error;
};

/* Event types for inject (match the VT-x/AMD encodings' meaning). */
enum event_type { EVENT_EXTINT = 0, EVENT_NMI = 2, EVENT_EXCEPTION = 3, EVENT_SOFTINT = 4 };

/* One exit as it came (core/exit_history.c). */
struct exit_record {
	u64 tsc;
	u64 rip, rax, rcx;
	struct vm_exit exit;
};

#define EXIT_HISTORY 16

struct vcpu {
	struct cpu *cpu;
	u64 gpr[16];            /* enum x86_gpr order, RSP included */
	u64 rip, rflags;        /* valid between exit and entry */
	struct vm_exit exit;
	volatile enum vcpu_state state;
	volatile u8 sipi_vector;
	volatile bool restarting; /* INIT from the guest while it ran: to lamina */
	volatile bool parked;     /* halted in lamina until its SIPI (woken by IPI) */
	volatile bool maybe_offline; /* WBINVD with interrupts off, no APIC write since */
	bool injected;          /* an event is queued for the next entry */
	u8 db_hits;             /* DR6 B0-B3 of data breakpoints lamina's accesses hit */
	u64 nested_gen;         /* nested tables as of the last flush */
	u64 exit_counts[LAMINA_EXIT_COUNT];
	struct exit_record history[EXIT_HISTORY];
	u32 history_next;       /* total exits recorded; the next slot mod EXIT_HISTORY */
	void *vendor;           /* the back end's per-vCPU data */
};

/* Real mode at a SIPI vector, or 32-bit flat protected mode as boot
 * protocols (Multiboot, Linux 32-bit) specify. */
struct vcpu_reset {
	bool protected_flat;
	u16 cs_sel, ds_sel;     /* protected: selectors into the GDT below */
	u64 rip;
	u64 gdt_base;
	u16 gdt_limit;
	u16 real_cs;            /* real mode: CS (base real_cs << 4), at IP rip */
};

enum guest_reg { GUEST_CR0, GUEST_CR2, GUEST_CR3, GUEST_CR4, GUEST_EFER, GUEST_DEBUGCTL,
		 GUEST_DR7 };

/* What started a hardware task switch (the VT-x exit qualification's
 * encoding). */
enum task_switch_source { TS_CALL = 0, TS_IRET = 1, TS_JMP = 2, TS_IDT_GATE = 3 };

enum nmi_blocking { NMI_BLOCKING_KEEP, NMI_BLOCKING_END, NMI_BLOCKING_BEGIN };

/* The system segment registers; GDTR and IDTR have only base and limit. */
enum guest_sys_seg { GUEST_LDTR, GUEST_TR, GUEST_GDTR, GUEST_IDTR };

struct vendor_ops {
	const char *name;
	enum lamina_vendor id;
	/* NULL if this CPU can run lamina, else why not. */
	const char *(*check)(void);
	/* Per physical CPU, on that CPU: enable the extension. 0 or -1. */
	int (*cpu_enable)(void);
	/* Per vCPU, on its CPU, after cpu_enable when the CPU came back from
	 * a sleep state (S2/S3) without its state; NULL where lamina cannot
	 * wake from one (the guest is kept from entering them). */
	void (*vcpu_wake)(struct vcpu *v);
	/* Per vCPU, on its CPU: control structure, intercepts, nested root. */
	int (*vcpu_init)(struct vcpu *v, u64 nested_root);
	/* Enter the guest; return at the next exit with v->exit filled and
	 * v->gpr/rip/rflags current. */
	void (*run)(struct vcpu *v);
	/* Put the vCPU in a boot state (all registers but GPRs, which the
	 * caller sets). */
	void (*reset)(struct vcpu *v, const struct vcpu_reset *r);
	/* APs: wait for INIT/SIPI in guest mode (VT-x) - NULL if the CPU has
	 * no such state and lamina must wait instead (AMD-V). */
	void (*wait_for_sipi)(struct vcpu *v);
	/* Let interrupts reach lamina between exits (AMD-V: GIF is 0 after
	 * #VMEXIT); NULL where nothing holds them but RFLAGS.IF. */
	void (*host_interrupts)(bool on);
	u64 (*get_reg)(struct vcpu *v, enum guest_reg r);
	/* EFER as the guest wrote it; the back end keeps its own bits. */
	void (*set_efer)(struct vcpu *v, u64 efer);
	void (*set_cr2)(struct vcpu *v, u64 cr2);
	void (*get_seg)(struct vcpu *v, enum x86_seg s, struct segment *out);
	/* Load a segment register whose descriptor the caller checked; the
	 * CPL follows SS.DPL. */
	void (*set_seg)(struct vcpu *v, enum x86_seg s, const struct segment *in);
	void (*get_sys_seg)(struct vcpu *v, enum guest_sys_seg s, struct segment *out);
	void (*set_sys_seg)(struct vcpu *v, enum guest_sys_seg s, const struct segment *in);
	/* CR0 bits that leave the paging mode alone (TS), or CR3 with what a
	 * MOV to CR3 does besides (PAE PDPTEs, TLB flush), or DR7 (a value
	 * the caller checked). 0, or -1 when the value cannot be loaded (a
	 * reserved bit in a PDPTE). */
	int (*set_cr)(struct vcpu *v, enum guest_reg r, u64 val);
	/* PAE paging: PDPTE i as the CPU holds it in its PDPTE registers
	 * (loaded at the last MOV to CR3, or to CR0/CR4 that reloads them);
	 * false, or NULL, where the CPU reads the PDPTEs from memory at each
	 * walk (AMD-V with nested paging). */
	bool (*pae_pdpte)(struct vcpu *v, unsigned int i, u64 *pdpte);
	unsigned int (*cpl)(struct vcpu *v);
	void (*inject)(struct vcpu *v, enum event_type type, u8 vector,
		       bool has_error, u32 error);
	/* A trap-class #DB the CPU raises after something lamina completed,
	 * with the DR6 bits it would set: BS after an instruction with
	 * RFLAGS.TF set, BT after a task switch to a TSS with its T bit set.
	 * Delivered at the next entry, before anything else. */
	void (*debug_trap)(struct vcpu *v, u64 dr6);
	/* lamina completed an event or instruction (a task switch) for the
	 * guest: blocking by STI and by MOV SS ends, and blocking by NMI is
	 * kept, ends (an IRET) or begins (an NMI delivered). */
	void (*set_blocking)(struct vcpu *v, enum nmi_blocking nmi);
	/* Nested page-table format and TLB flush after changing it. */
	struct pt_format *nested_format;
	void (*flush_nested)(struct vcpu *v);
	/* Intercept (or not) guest reads/writes of an MSR. */
	void (*intercept_msr)(u32 msr, bool read, bool write);
	/* Intercept (or not) guest accesses to an I/O port. */
	void (*intercept_io)(u16 port, bool on);
	/* Back-end specific exits (e.g. VT-x CR accesses). */
	void (*handle_private)(struct vcpu *v);
	/* An NMI (a kick from core/smp.c, or the guest's) reached this CPU
	 * in lamina, in its NMI handler, perhaps after the checks before the
	 * next entry: make that entry exit before the guest runs. NULL where
	 * the CPU holds NMIs in lamina until the next entry, which the NMI
	 * then ends (AMD-V: GIF). */
	void (*nmi_missed)(struct vcpu *v);
};

extern const struct vendor_ops *vendor;
extern const struct vendor_ops svm_ops, vmx_ops;

static inline struct vcpu *this_vcpu(void)
{
	return this_cpu()->vcpu;
}

/* core/vcpu.c */
struct vcpu *vcpu_create(struct cpu *c, u64 nested_root);
__noreturn void vcpu_loop(struct vcpu *v);
bool vcpu_insn_len_ready(struct vcpu *v);
void vcpu_skip_insn(struct vcpu *v);
void vcpu_insn_done(struct vcpu *v, bool completed);
void vcpu_debug_trap(struct vcpu *v, u64 dr6);
bool vcpu_steps_each_iteration(struct vcpu *v);
void vcpu_note_access(struct vcpu *v, u64 la, unsigned int size, bool write);
bool vcpu_next_rip(struct vcpu *v, u64 *next);
struct guest_insn;
bool vcpu_fetch_insn(struct vcpu *v, struct guest_insn *gi);
void vcpu_warn_insn(struct vcpu *v, const u8 *bytes, unsigned int n, const char *what,
		    const char *then);
void vcpu_inject_ud(struct vcpu *v);
void vcpu_inject_fault(struct vcpu *v, const struct emu_fault *f);
void vcpu_inject_gp(struct vcpu *v, u32 error);
void vcpu_reflect_exception(struct vcpu *v);
void vcpu_inject_fault_in_delivery(struct vcpu *v, enum event_type type, u8 vector,
				   const struct emu_fault *f);
enum x86_mode vcpu_mode(struct vcpu *v);
void vcpu_start_at_sipi(struct vcpu *v, u8 vector);
/* Real mode at CS:IP (CS base CS << 4), as INIT leaves a CPU otherwise. */
void vcpu_start_real_mode(struct vcpu *v, u16 cs, u16 ip);
void vcpu_load_emu(struct vcpu *v, struct emu_ctx *ctx);
void vcpu_store_emu(struct vcpu *v, const struct emu_ctx *ctx);

/* core/exit.c */
void exit_dispatch(struct vcpu *v);

/* Stop the whole guest: every vCPU parks, lamina stays up. */
__noreturn void guest_stop(struct vcpu *v, const char *why);

#endif
