/* The vendor-neutral vCPU: the run loop, instruction skipping, event
 * injection, and stopping the guest. */
#include <core/exit_handlers.h>
#include <core/exit_history.h>
#include <core/format.h>
#include <core/guest_mem.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/nested.h>
#include <core/panic.h>
#include <core/smp.h>
#include <core/string.h>
#include <core/vcpu.h>
#include <x86/apic.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>

const struct vendor_ops *vendor;
static volatile bool guest_stopped;

struct vcpu *vcpu_create(struct cpu *c, u64 nested_root)
{
	struct vcpu *v = kzalloc(sizeof(*v));

	if (!v)
		panic("out of memory for the vCPU of CPU %u", c->index);
	v->cpu = c;
	c->vcpu = v;
	if (vendor->vcpu_init(v, nested_root))
		panic("cannot set up the %s vCPU of CPU %u", vendor->name, c->index);
	return v;
}

enum x86_mode vcpu_mode(struct vcpu *v)
{
	struct segment cs;

	if (!(vendor->get_reg(v, GUEST_CR0) & CR0_PE) || (v->rflags & RFLAGS_VM))
		return X86_MODE_16;
	vendor->get_seg(v, X86_CS, &cs);
	if ((vendor->get_reg(v, GUEST_EFER) & EFER_LMA) && (cs.attr & SEG_ATTR_L))
		return X86_MODE_64;
	return (cs.attr & SEG_ATTR_DB) ? X86_MODE_32 : X86_MODE_16;
}

/* RIP past an instruction of len bytes: IP and EIP wrap. */
static u64 rip_after(struct vcpu *v, unsigned int len)
{
	enum x86_mode m = vcpu_mode(v);
	u64 rip = v->rip + len;

	if (m == X86_MODE_32)
		return rip & 0xffffffffull;
	if (m == X86_MODE_16)
		return rip & 0xffffull;
	return rip;
}

/* Where the guest's instruction at RIP ends, decoded from its memory;
 * false if it cannot be fetched or decoded (nothing is injected). */
bool vcpu_next_rip(struct vcpu *v, u64 *next)
{
	struct guest_insn gi;
	struct emu_fault f;

	if (guest_fetch_decode(v, &gi, &f) != INSN_OK)
		return false;
	*next = rip_after(v, gi.insn.len);
	return true;
}

/* Real mode pushes no error codes: AMD-V would push one if asked (the
 * handler's IRET frame would be off by two bytes), and VT-x refuses the
 * VM entry. A fault pushes RFLAGS with RF set, so that the handler's
 * IRET re-runs the instruction without its instruction breakpoint firing
 * again; injection leaves that to the VMM. (#DB, #BP and #OF are traps,
 * #DF and #MC aborts.) */
static void inject_fault(struct vcpu *v, const struct emu_fault *f)
{
	bool has_error = f->has_error && (vendor->get_reg(v, GUEST_CR0) & CR0_PE);

	/* A fault ends the instruction: data breakpoints its accesses hit so
	 * far are not reported (they trap only after it completes). */
	v->db_hits = 0;
	/* RIP is still on the instruction: it runs again. */
	if (f->vector == EMU_VECTOR_RETRY)
		return;
	if (f->vector != 1 && f->vector != 3 && f->vector != 4 && f->vector != 8 &&
	    f->vector != 18)
		v->rflags |= RFLAGS_RF;

	if (f->vector == 14)
		vendor->set_cr2(v, f->cr2);
	vendor->inject(v, EVENT_EXCEPTION, f->vector, has_error, f->error_code);
	v->injected = true;
}

void vcpu_inject_fault(struct vcpu *v, const struct emu_fault *f)
{
	inject_fault(v, f);
}

void vcpu_inject_ud(struct vcpu *v)
{
	struct emu_fault f = { .vector = 6 };

	inject_fault(v, &f);
}

void vcpu_inject_gp(struct vcpu *v, u32 error)
{
	struct emu_fault f = { .vector = 13, .has_error = true, .error_code = error };

	inject_fault(v, &f);
}

/* The classes of SDM Vol. 3A table 6-4: contributory exceptions (#DE,
 * #TS, #NP, #SS, #GP, #CP), page faults (#PF, #VE), and the benign rest. */
enum exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT };

static enum exc_class exc_class(u8 vector)
{
	switch (vector) {
	case 0: case 10: case 11: case 12: case 13: case 21:
		return EXC_CONTRIBUTORY;
	case 14: case 20:
		return EXC_PAGE_FAULT;
	default:
		return EXC_BENIGN;
	}
}

/* A fault f that lamina found while delivering an event of this type and
 * vector for the guest (through a task gate, say): as the CPU would, SDM
 * Vol. 3A table 6-5. After a hardware exception, a contributory one then
 * another, or a #PF then a contributory one or a #PF, make a #DF(0); a
 * fault while delivering a #DF is a triple fault. Anything after a benign
 * exception, an NMI, an interrupt or an INT n is delivered as it is. A
 * #PF loads CR2 even where it becomes a #DF. */
void vcpu_inject_fault_in_delivery(struct vcpu *v, enum event_type type, u8 vector,
				   const struct emu_fault *f)
{
	enum exc_class first = exc_class(vector), second = exc_class(f->vector);
	struct emu_fault df = { .vector = 8, .has_error = true, .error_code = 0 };

	if (type != EVENT_EXCEPTION)
		return inject_fault(v, f);
	if (vector == 8)
		exit_shutdown(v);
	if ((first == EXC_CONTRIBUTORY && second == EXC_CONTRIBUTORY) ||
	    (first == EXC_PAGE_FAULT && second != EXC_BENIGN)) {
		if (f->vector == 14)
			vendor->set_cr2(v, f->cr2);
		return inject_fault(v, &df);
	}
	inject_fault(v, f);
}

/* VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT and INVLPGA: 0F 01 D8-DF
 * but D9 (VMMCALL, the hypercall). */
static bool is_svm_insn(const struct x86_insn *i)
{
	return !i->vex && i->opcode_map == 1 && i->opcode == 0x01 && i->has_modrm &&
	       (i->modrm & 0xf8) == 0xd8 && i->modrm != 0xd9;
}

/* AMD-V runs the guest with EFER.SVME set underneath, so at CPL > 0 the
 * SVM instructions' CPL check raises #GP before their intercept, where a
 * CPU without SVM (as the guest sees it) raises #UD: the back end
 * intercepts #GP for that, and the rest of them go back as they came. */
static bool hidden_insn_faulted(struct vcpu *v)
{
	struct guest_insn gi;
	struct emu_fault f;

	if (v->exit.exception.vector != X86_EXC_GP || v->exit.event_pending)
		return false;
	return guest_fetch_decode(v, &gi, &f) == INSN_OK && is_svm_insn(&gi.insn);
}

/* #AC and #DB are intercepted so that a guest cannot hold its CPU in an
 * endless chain of them, which the CPU delivers without ever opening an
 * interrupt window (CVE-2015-5307, CVE-2015-8104), #GP on AMD-V for
 * hidden_insn_faulted, and on AMD-V #TS, #NP, #SS and #PF for the one
 * entry that single-steps an IRET (arch/x86/svm/svm_nmi.c). Each goes back to the guest as it came, with what the CPU did before the exit
 * (DR6, DR7.GD) already done by the back end. An INT1 the exit came
 * before is stepped over first, its #DB being a trap; like any
 * instruction it ends an STI or MOV SS shadow. */
void vcpu_reflect_exception(struct vcpu *v)
{
	const struct vm_exit *e = &v->exit;
	struct emu_fault f = { .vector = e->exception.vector,
			       .has_error = e->exception.has_error,
			       .error_code = e->exception.error, .cr2 = e->exception.cr2 };

	if (hidden_insn_faulted(v))
		return vcpu_inject_ud(v);
	if (e->exception.int1_len) {
		v->rip = rip_after(v, e->exception.int1_len);
		vendor->set_blocking(v, NMI_BLOCKING_KEEP);
	}
	if (e->event_pending)
		vcpu_inject_fault_in_delivery(v, (enum event_type)e->event_type,
					      e->event_vector, &f);
	else
		inject_fault(v, &f);
}

/* Warnings about guest instructions lamina could not carry out: a guest
 * may loop on one. */
static struct log_limit insn_warnings = LOG_LIMIT("the guest's instructions");

/* A warning naming the guest's instruction by its bytes, "<what> (bytes
 * ...)<then>", and its RIP (to the console only). */
void vcpu_warn_insn(struct vcpu *v, const u8 *bytes, unsigned int n, const char *what,
		    const char *then)
{
	char hex[3 * X86_MAX_INSN_LEN + 1] = "";
	int len = 0;

	if (!log_limit_pass(&insn_warnings))
		return;
	for (unsigned int i = 0; i < n && i < X86_MAX_INSN_LEN; i++)
		len += format(hex + len, sizeof(hex) - len, "%02x ", bytes[i]);
	log_warn("%s (bytes %s)%s", what, hex, then);
	log_guest_rip(LOG_WARN, v->rip);
}

/* The guest's instruction at RIP, for lamina to carry out: true, or
 * false with what the CPU raises instead injected (guest_fetch_decode).
 * Warned about where lamina may be the cause: code (or its page tables)
 * outside the RAM it reads, and bytes it does not decode though the CPU
 * ran them (rewritten since the exit, or past lamina's decoder). */
bool vcpu_fetch_insn(struct vcpu *v, struct guest_insn *gi)
{
	struct emu_fault f;
	enum insn_fetch r = guest_fetch_decode(v, gi, &f);

	if (r == INSN_OK)
		return true;
	if (r == INSN_FETCH_FAULT && f.vector == X86_EXC_GP) {
		if (log_limit_pass(&insn_warnings)) {
			log_warn("cannot fetch the guest's instruction: it or its page tables are not "
				 "in RAM lamina may read (or it runs past the canonical range); "
				 "#GP");
			log_guest_rip(LOG_WARN, v->rip);
		}
	} else if (r == INSN_INVALID && f.vector == X86_EXC_GP) {
		vcpu_warn_insn(v, gi->bytes, gi->fetched,
			       "the guest's instruction is longer than 15 bytes", "; #GP");
	} else if (r == INSN_INVALID) {
		vcpu_warn_insn(v, gi->bytes, gi->fetched,
			       "the guest's instruction does not decode", "; #UD");
	}
	inject_fault(v, &f);
	return false;
}

/* The length of the intercepted instruction at RIP (exit.insn_len),
 * known before its handler has any effect: without NRIPS lamina decodes
 * it, and an instruction it cannot fetch (#PF) or decode (#UD) gets the
 * fault with nothing done (vcpu_fetch_insn), as a handler that ran first
 * would have changed the registers (or the MSR) the re-run instruction
 * then uses. */
bool vcpu_insn_len_ready(struct vcpu *v)
{
	struct guest_insn gi;

	if (v->exit.insn_len)
		return true;
	if (!vcpu_fetch_insn(v, &gi))
		return false;
	v->exit.insn_len = gi.insn.len;
	return true;
}

void vcpu_skip_insn(struct vcpu *v)
{
	if (!vcpu_insn_len_ready(v))
		return;
	v->rip = rip_after(v, v->exit.insn_len);
	vcpu_insn_done(v, true);
}

/* lamina has carried out the guest's instruction at the exit (completed:
 * RIP is past it), or one iteration of a REP string instruction (RIP
 * stays on it): end it as the CPU would. RFLAGS.RF, which holds off
 * instruction breakpoints for one instruction, is cleared when an
 * instruction completes and set when a REP stops between iterations (in
 * the frame of what interrupts it); VT-x saves it as 1 at an EPT
 * violation, and a guest's IRET may have set it. A data breakpoint one of
 * its accesses hit (vcpu_note_access), and RFLAGS.TF set when it began
 * (none of these instructions writes TF), make a #DB trap: B0-B3 and BS in
 * one, as on the CPU; TF not with DEBUGCTL.BTF, which limits stepping to
 * branches (lamina completes none). After a MOV SS or POP SS, whose own
 * trap the CPU defers to the next instruction's, it is still one #DB. */
void vcpu_insn_done(struct vcpu *v, bool completed)
{
	u64 dr6 = v->db_hits;

	v->db_hits = 0;
	if (completed)
		v->rflags &= ~(u64)RFLAGS_RF;
	else
		v->rflags |= RFLAGS_RF;
	if ((v->rflags & RFLAGS_TF) && !(vendor->get_reg(v, GUEST_DEBUGCTL) & DEBUGCTL_BTF))
		dr6 |= DR6_BS;
	if (dr6 && !v->injected)
		vcpu_debug_trap(v, dr6);
}

/* Whether a REP string instruction lamina carries out must stop after
 * each iteration, as its #DB trap comes after the iteration that raised
 * it: single-stepped, or with a data breakpoint armed. */
bool vcpu_steps_each_iteration(struct vcpu *v)
{
	return (v->rflags & RFLAGS_TF) ||
	       x86_data_breakpoints_armed(vendor->get_reg(v, GUEST_DR7));
}

/* An access lamina made for the guest's instruction: the CPU's debug
 * registers do not see it, so lamina checks the guest's data breakpoints
 * itself (DR0-DR3 hold the guest's values: lamina uses none). */
void vcpu_note_access(struct vcpu *v, u64 la, unsigned int size, bool write)
{
	u64 dr7 = vendor->get_reg(v, GUEST_DR7);
	u64 dr[4];

	if (!x86_data_breakpoints_armed(dr7))
		return;
	dr[0] = read_dr0();
	dr[1] = read_dr1();
	dr[2] = read_dr2();
	dr[3] = read_dr3();
	v->db_hits |= x86_data_breakpoints_hit(dr7, dr, la, size, write);
}

void vcpu_debug_trap(struct vcpu *v, u64 dr6)
{
	vendor->debug_trap(v, dr6);
	v->injected = true;
}

void vcpu_load_emu(struct vcpu *v, struct emu_ctx *ctx)
{
	struct segment s;

	ctx->mode = vcpu_mode(v);
	memcpy(ctx->gpr, v->gpr, sizeof(ctx->gpr));
	ctx->rip = v->rip;
	ctx->rflags = v->rflags;
	for (int i = X86_ES; i <= X86_GS; i++) {
		vendor->get_seg(v, (enum x86_seg)i, &s);
		ctx->seg_base[i] = s.base;
	}
}

void vcpu_store_emu(struct vcpu *v, const struct emu_ctx *ctx)
{
	memcpy(v->gpr, ctx->gpr, sizeof(v->gpr));
	v->rip = ctx->rip;
	v->rflags = ctx->rflags;
}

void vcpu_start_real_mode(struct vcpu *v, u16 cs, u16 ip)
{
	struct vcpu_reset r = { .protected_flat = false, .real_cs = cs, .rip = ip };

	memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[X86_RDX] = cpuid(1).eax; /* processor signature, as after INIT */
	vendor->reset(v, &r);
	v->injected = false; /* the reset dropped a queued event */
	v->state = VCPU_RUNNING;
}

void vcpu_start_at_sipi(struct vcpu *v, u8 vector)
{
	vcpu_start_real_mode(v, (u16)(vector << 8), 0);
}

static __noreturn void park(struct vcpu *v)
{
	v->state = VCPU_STOPPED;
	halt_forever();
}

__noreturn void guest_stop(struct vcpu *v, const char *why)
{
	if (!__atomic_exchange_n(&guest_stopped, true, __ATOMIC_ACQ_REL)) {
		log_err("guest stopped: %s", why);
		log_info("lamina stays up; every CPU of the guest is halted");
		/* CPUs in the guest exit on the NMI (intercepted) and park. */
		apic_send_nmi_all_but_self();
	}
	park(v);
}

/* An NMI lamina took belongs to the guest: deliver it when nothing else
 * is being injected. Else it waits for the next exit, which the back end
 * makes come as soon as the guest can take the NMI (VT-x: an NMI window)
 * or rules out (AMD-V: lamina takes NMIs only where it injects nothing,
 * see svm_run; a reset drops what was queued). */
static void deliver_nmi(struct vcpu *v)
{
	if (v->cpu->nmi_pending && !v->injected) {
		v->cpu->nmi_pending = false;
		vendor->inject(v, EVENT_NMI, 2, false, 0);
		v->injected = true;
	}
}

__noreturn void vcpu_loop(struct vcpu *v)
{
	for (;;) {
		smp_before_entry(v);
		deliver_nmi(v);
		nested_sync(v);
		vendor->run(v);
		v->injected = false;
		v->exit_counts[v->exit.reason]++;
		exit_history_record(v);
		if (guest_stopped)
			park(v);
		exit_dispatch(v);
		/* An event the exit interrupted is delivered again. */
		if (v->exit.event_pending && !v->injected) {
			vendor->inject(v, (enum event_type)v->exit.event_type,
				       v->exit.event_vector, v->exit.event_has_error,
				       v->exit.event_error);
			v->injected = true;
		}
		if (v->state == VCPU_STOPPED)
			park(v);
	}
}
