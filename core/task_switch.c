/* Hardware task switches (SDM Vol. 3A 7.3), which VT-x does not run in
 * VMX non-root operation: every one exits, after the CPU checked the task
 * gate (present, DPL) and before any state changed. lamina carries it out:
 * the old task's state into its TSS, busy bits, back link and NT, the new
 * task's state from its TSS. AMD-V lets the CPU do them.
 *
 * Faults found before the commit point (the new TSS's descriptor, reading
 * the new TSS, saving into the old one) go to the old task; later ones
 * (LDT and segment descriptors of the new task, its stack) to the new
 * task, which then keeps the old task's segment registers and RFLAGS.VM
 * where the CPU would have loaded its selectors with unusable
 * descriptors. A fault while delivering an exception through a task gate
 * combines with it as on the CPU (#DF, triple fault). Only 32-bit TSSs
 * are emulated: a 16-bit one stops the guest with a message. The TSS's
 * T bit (a #DB in the new task) is not. */
#include <core/exit_handlers.h>
#include <core/format.h>
#include <core/guest_mem.h>
#include <core/log.h>
#include <core/string.h>
#include <core/vcpu.h>
#include <x86/cpu.h>

#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13

#define TSS32_MIN_LIMIT 0x67
#define TYPE_TSS16_AVAIL 1
#define TYPE_LDT 2
#define TYPE_TSS16_BUSY 3
#define TYPE_TSS32_AVAIL 9
#define TYPE_TSS32_BUSY 11
#define TYPE_BUSY_BIT 2
#define TYPE_ACCESSED 1
#define TYPE_CODE 8
#define TYPE_CONFORMING 4   /* code */
#define TYPE_READ_WRITE 2   /* readable code, writable data */
#define RFLAGS_NT BIT(14)
/* The EFLAGS bits a task switch loads: CF, PF, AF, ZF, SF, TF, IF, DF, OF,
 * IOPL, NT, RF, VM, AC, VIF, VIP, ID; the reserved ones read as 0 (bit 1
 * as 1), and VM entry refuses them set. */
#define TSS_EFLAGS_MASK 0x3f7fd5u
#define DR7_LOCAL_ENABLES 0x55 /* L0-L3 */
#define SEL_TI 4
#define SEL_RPL(s) ((s) & 3)
#define V86_ATTR 0xf3       /* present, DPL 3, read/write data, accessed */

/* The 32-bit TSS; eip to gs is what a task switch saves. */
struct tss32 {
	u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3;
	u32 eip, eflags, gpr[8], seg[6]; /* gpr: enum x86_gpr; seg: enum x86_seg */
	u32 ldt;
	u16 trap, iomap;
} __packed;

#define TSS_TRAP_T BIT(0) /* #DB (DR6.BT) once the switch is done */
#define TSS_SAVED_FROM offsetof(struct tss32, eip)
#define TSS_SAVED_TO offsetof(struct tss32, ldt)

struct task_switch {
	struct vcpu *v;
	enum task_switch_source src;
	u16 sel;                /* the new TSS */
	u64 desc;               /* its descriptor */
	u32 ext;                /* EXT bit for error codes: an external event */
	bool past_insn;         /* the old task goes on after the instruction */
	bool push_error;        /* an exception's error code for the new stack */
	u32 error;
	bool event;             /* delivering an event through an IDT task gate */
	u8 event_type, event_vector;
	struct segment gdtr, ldtr;
	struct emu_fault f;
};

static int fault(struct task_switch *t, u8 vector, u16 sel)
{
	t->f = (struct emu_fault){ .vector = vector, .has_error = true,
				   .error_code = (sel & 0xfffcu) | t->ext };
	return -1;
}

static unsigned int desc_type(u64 d)
{
	return (d >> 40) & 0xf;
}

static bool desc_system(u64 d)
{
	return !(d & BIT(44));
}

static unsigned int desc_dpl(u64 d)
{
	return (d >> 45) & 3;
}

static bool desc_present(u64 d)
{
	return d & BIT(47);
}

static struct segment desc_to_seg(u16 sel, u64 d)
{
	u32 limit = (u32)((d & 0xffff) | ((d >> 32) & 0xf0000));

	if (d & BIT(55))
		limit = (limit << 12) | 0xfff;
	return (struct segment){
		.sel = sel,
		.attr = (u16)(((d >> 40) & 0xff) | ((d >> 44) & 0xf00)),
		.limit = limit,
		.base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000),
	};
}

/* Linear address of the descriptor of sel in the GDT or the new LDT; -1
 * (with #TS or the fault given) when it lies beyond the table's limit. */
static int desc_addr(struct task_switch *t, u16 sel, u8 vector, u64 *la)
{
	const struct segment *table = (sel & SEL_TI) ? &t->ldtr : &t->gdtr;

	if ((sel & SEL_TI) && !(t->ldtr.attr & SEG_ATTR_P))
		return fault(t, vector, sel);
	if ((u32)(sel | 7) > table->limit)
		return fault(t, vector, sel);
	*la = table->base + (sel & ~7u);
	return 0;
}

static int read_desc(struct task_switch *t, u16 sel, u8 vector, u64 *d, u64 *la)
{
	if (desc_addr(t, sel, vector, la))
		return -1;
	return guest_copy_system(t->v, *la, d, sizeof(*d), false, &t->f);
}

/* Rewrites the type of the descriptor at la (busy and accessed bits). */
static int write_type(struct task_switch *t, u64 la, u64 d, unsigned int type)
{
	u8 access = (u8)(((d >> 40) & 0xf0) | type);

	return guest_copy_system(t->v, la + 5, &access, 1, true, &t->f);
}

/* The new TSS's descriptor: in the GDT, a present 32-bit TSS, busy for
 * IRET and available otherwise (the CPU checked most of it before the
 * exit; these checks are what it would fault with). */
static int check_new_tss(struct task_switch *t, u64 *la)
{
	u8 vector = t->src == TS_IRET ? VEC_TS : VEC_GP;
	unsigned int want = t->src == TS_IRET ? TYPE_TSS32_BUSY : TYPE_TSS32_AVAIL;
	u32 limit;

	if (t->sel & SEL_TI)
		return fault(t, vector, t->sel);
	if (read_desc(t, t->sel, vector, &t->desc, la))
		return -1;
	if (!desc_system(t->desc) || (desc_type(t->desc) & ~TYPE_BUSY_BIT) != TYPE_TSS32_AVAIL) {
		unsigned int type = desc_type(t->desc) & ~TYPE_BUSY_BIT;
		if (desc_system(t->desc) && type == TYPE_TSS16_AVAIL)
			return 1;
		return fault(t, vector, t->sel);
	}
	if (desc_type(t->desc) != want)
		return fault(t, vector, t->sel);
	if (!desc_present(t->desc))
		return fault(t, VEC_NP, t->sel);
	limit = desc_to_seg(t->sel, t->desc).limit;
	if (limit < TSS32_MIN_LIMIT)
		return fault(t, VEC_TS, t->sel);
	return 0;
}

static int save_old(struct task_switch *t, u64 tr_base)
{
	struct vcpu *v = t->v;
	struct tss32 old;
	struct segment s;

	old.eip = (u32)(v->rip + (t->past_insn ? v->exit.insn_len : 0));
	old.eflags = (u32)v->rflags;
	if (t->src == TS_IRET)
		old.eflags &= ~(u32)RFLAGS_NT;
	for (int i = 0; i < 8; i++)
		old.gpr[i] = (u32)v->gpr[i];
	for (int i = X86_ES; i <= X86_GS; i++) {
		vendor->get_seg(v, (enum x86_seg)i, &s);
		old.seg[i] = s.sel;
	}
	return guest_copy_system(v, tr_base + TSS_SAVED_FROM, (u8 *)&old + TSS_SAVED_FROM,
				 TSS_SAVED_TO - TSS_SAVED_FROM, true, &t->f);
}

/* Everything up to the commit point; faults here belong to the old task. */
static int leave_old(struct task_switch *t, struct tss32 *tss, struct segment *tr)
{
	u64 new_la, old_la, old_desc;
	struct segment old_tr;
	int r = check_new_tss(t, &new_la);

	if (r)
		return r;
	*tr = desc_to_seg(t->sel, t->desc);
	if (guest_copy_system(t->v, tr->base, tss, sizeof(*tss), false, &t->f))
		return -1;
	vendor->get_sys_seg(t->v, GUEST_TR, &old_tr);
	if (SEG_ATTR_TYPE(old_tr.attr) != TYPE_TSS32_BUSY)
		return 1;
	if (save_old(t, old_tr.base))
		return -1;
	if (t->src == TS_JMP || t->src == TS_IRET) {
		if (read_desc(t, old_tr.sel, VEC_TS, &old_desc, &old_la) ||
		    write_type(t, old_la, old_desc, TYPE_TSS32_AVAIL))
			return -1;
	}
	if (t->src == TS_CALL || t->src == TS_IDT_GATE) {
		u32 link = old_tr.sel;
		if (guest_copy_system(t->v, tr->base, &link, sizeof(link), true, &t->f))
			return -1;
		tss->link = link;
	}
	if (t->src != TS_IRET && write_type(t, new_la, t->desc, TYPE_TSS32_BUSY))
		return -1;
	tr->attr = (u16)((tr->attr & ~0xfu) | TYPE_TSS32_BUSY);
	return 0;
}

static int load_ldt(struct task_switch *t, u16 sel)
{
	u64 d, la;

	t->ldtr = (struct segment){ .sel = sel };
	if (!(sel & ~3u))
		return 0;
	if (sel & SEL_TI)
		return fault(t, VEC_TS, sel);
	if (read_desc(t, sel, VEC_TS, &d, &la))
		return -1;
	if (!desc_system(d) || desc_type(d) != TYPE_LDT)
		return fault(t, VEC_TS, sel);
	if (!desc_present(d))
		return fault(t, VEC_TS, sel);
	t->ldtr = desc_to_seg(sel, d);
	return 0;
}

/* The checks of SDM Vol. 3A table 7-1 for CS, SS and the data segments
 * of the new task, at CPL cpl (CS.RPL). */
static int check_seg(struct task_switch *t, enum x86_seg i, u64 d, u16 sel, unsigned int cpl)
{
	unsigned int type = desc_type(d), dpl = desc_dpl(d);
	bool code = type & TYPE_CODE, conforming = code && (type & TYPE_CONFORMING);

	if (desc_system(d))
		return fault(t, VEC_TS, sel);
	if (i == X86_CS) {
		if (!code || (conforming ? dpl > cpl : dpl != cpl))
			return fault(t, VEC_TS, sel);
	} else if (i == X86_SS) {
		if (code || !(type & TYPE_READ_WRITE) || dpl != cpl || SEL_RPL(sel) != cpl)
			return fault(t, VEC_TS, sel);
	} else {
		if (code && !(type & TYPE_READ_WRITE))
			return fault(t, VEC_TS, sel);
		if (!conforming && dpl < MAX(cpl, SEL_RPL(sel)))
			return fault(t, VEC_TS, sel);
	}
	if (!desc_present(d))
		return fault(t, i == X86_SS ? VEC_SS : VEC_NP, sel);
	return 0;
}

static int load_seg(struct task_switch *t, enum x86_seg i, u16 sel, unsigned int cpl,
		    struct segment *out)
{
	u64 d, la;

	*out = (struct segment){ .sel = sel };
	if (!(sel & ~3u)) /* null: CS and SS may not be */
		return (i == X86_CS || i == X86_SS) ? fault(t, VEC_TS, sel) : 0;
	if (read_desc(t, sel, VEC_TS, &d, &la) || check_seg(t, i, d, sel, cpl))
		return -1;
	if (!(desc_type(d) & TYPE_ACCESSED)) {
		if (write_type(t, la, d, desc_type(d) | TYPE_ACCESSED))
			return -1;
		d |= (u64)TYPE_ACCESSED << 40;
	}
	*out = desc_to_seg(sel, d);
	return 0;
}

/* The new task's segment registers, all checked into segs (none loaded). */
static int check_segs(struct task_switch *t, const struct tss32 *tss, struct segment *segs)
{
	bool v86 = tss->eflags & RFLAGS_VM;
	unsigned int cpl = v86 ? 3 : SEL_RPL(tss->seg[X86_CS]);

	for (int i = X86_ES; i <= X86_GS; i++) {
		u16 sel = (u16)tss->seg[i];
		if (v86)
			segs[i] = (struct segment){ .sel = sel, .base = (u64)sel << 4,
						    .limit = 0xffff, .attr = V86_ATTR };
		else if (load_seg(t, (enum x86_seg)i, sel, cpl, &segs[i]))
			return -1;
	}
	return 0;
}

/* The error code of an exception delivered through the task gate goes on
 * the new task's stack. */
static int push_error(struct task_switch *t)
{
	struct vcpu *v = t->v;
	struct segment ss;
	u32 esp = (u32)v->gpr[X86_RSP] - 4, err = t->error;

	vendor->get_seg(v, X86_SS, &ss);
	if (guest_write_linear(v, (u32)(ss.base + esp), &err, sizeof(err), &t->f))
		return -1;
	v->gpr[X86_RSP] = esp;
	return 0;
}

/* After the commit point: faults here are the new task's. The switch is
 * done at the commit point as far as the CPU's side state goes: the
 * shadow of an STI or MOV SS ends, an IRET ends NMI blocking and an NMI
 * through the gate begins it, and DR7's
 * local breakpoint enables are cleared (the CPU leaves that to lamina
 * when the switch exits). RFLAGS is loaded with the segment registers:
 * a fault in the LDT or a segment descriptor leaves the old task's
 * segment registers, and RFLAGS.VM must go with them (VM entry checks
 * the segments against it). */
static int enter_new(struct task_switch *t, const struct tss32 *tss, const struct segment *tr)
{
	struct vcpu *v = t->v;
	u64 cr0 = vendor->get_reg(v, GUEST_CR0);
	u64 rflags = (tss->eflags & TSS_EFLAGS_MASK) | BIT(1) |
		     (t->src == TS_CALL || t->src == TS_IDT_GATE ? RFLAGS_NT : 0);
	struct segment segs[X86_GS + 1];

	vendor->set_sys_seg(v, GUEST_TR, tr);
	vendor->set_cr(v, GUEST_CR0, cr0 | CR0_TS);
	vendor->set_cr(v, GUEST_DR7, vendor->get_reg(v, GUEST_DR7) & ~(u64)DR7_LOCAL_ENABLES);
	vendor->set_blocking(v, t->src == TS_IRET ? NMI_BLOCKING_END :
				t->event && t->event_type == EVENT_NMI ? NMI_BLOCKING_BEGIN :
				NMI_BLOCKING_KEEP);
	if ((cr0 & CR0_PG) && vendor->set_cr(v, GUEST_CR3, tss->cr3))
		return fault(t, VEC_GP, 0);
	v->rip = tss->eip;
	for (int i = 0; i < 8; i++)
		v->gpr[i] = tss->gpr[i];
	if (load_ldt(t, (u16)tss->ldt))
		goto keep_segs;
	vendor->set_sys_seg(v, GUEST_LDTR, &t->ldtr);
	if (check_segs(t, tss, segs))
		goto keep_segs;
	for (int i = X86_ES; i <= X86_GS; i++)
		vendor->set_seg(v, (enum x86_seg)i, &segs[i]);
	v->rflags = rflags;
	if (t->push_error)
		return push_error(t);
	return 0;
keep_segs:
	v->rflags = (rflags & ~(u64)RFLAGS_VM) | (v->rflags & RFLAGS_VM);
	return -1;
}

static void stop(struct vcpu *v, const char *what)
{
	char why[128];

	format(why, sizeof(why), "task switch to TSS %#x at rip %#llx: %s",
	       v->exit.task_switch.sel, (unsigned long long)v->rip, what);
	guest_stop(v, why);
}

/* A walk of the guest's page tables gave up before the commit point (the
 * guest kept changing an entry): the switch runs again from the start,
 * the instruction re-executed, or the event through the gate delivered
 * again (vcpu_loop injects what the exit interrupted). What was written
 * so far (the old task's state, its busy bit) the second run writes the
 * same. */
static void switch_again(struct task_switch *t)
{
	t->v->exit.event_pending = t->event;
}

void exit_task_switch(struct vcpu *v)
{
	struct task_switch t = { .v = v, .src = v->exit.task_switch.source,
				 .sel = v->exit.task_switch.sel };
	struct tss32 tss;
	struct segment tr;
	int r;

	if (!(vendor->get_reg(v, GUEST_CR0) & CR0_PE))
		return stop(v, "in real mode");
	/* IA-32e mode has no task switches, virtual-8086 mode none but
	 * through an IDT task gate. */
	if ((vendor->get_reg(v, GUEST_EFER) & EFER_LMA) ||
	    ((v->rflags & RFLAGS_VM) && t.src != TS_IDT_GATE))
		return vcpu_inject_gp(v, 0);
	/* The event being delivered through the gate ends in the switch: an
	 * instruction's (INT n, INT3, INTO, INT1) resumes after it, a
	 * hardware one at the instruction it interrupted. */
	t.past_insn = t.src != TS_IDT_GATE;
	if (t.src == TS_IDT_GATE && v->exit.event_pending) {
		v->exit.event_pending = false;
		t.past_insn = v->exit.event_type >= EVENT_SOFTINT;
		t.ext = !t.past_insn;
		t.push_error = v->exit.event_has_error;
		t.error = v->exit.event_error;
		t.event = true;
		t.event_type = v->exit.event_type;
		t.event_vector = v->exit.event_vector;
	}
	vendor->get_sys_seg(v, GUEST_GDTR, &t.gdtr);
	r = leave_old(&t, &tss, &tr);
	if (r > 0)
		return stop(v, "16-bit TSSs are not emulated");
	if (r && t.f.vector == EMU_VECTOR_RETRY)
		return switch_again(&t);
	if (!r)
		r = enter_new(&t, &tss, &tr);
	if (r && t.f.vector == EMU_VECTOR_RETRY)
		return stop(v, "the guest kept changing the page-table entries the new task's "
			       "descriptors or stack are reached through");
	if (!r && (tss.trap & TSS_TRAP_T))
		vcpu_debug_trap(v, DR6_BT);
	else if (r && t.event)
		vcpu_inject_fault_in_delivery(v, (enum event_type)t.event_type, t.event_vector, &t.f);
	else if (r)
		vcpu_inject_fault(v, &t.f);
}
