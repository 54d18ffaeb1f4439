/* Interrupts and exceptions taken while lamina itself runs. An exception
 * is a bug in lamina unless the faulting instruction has a fixup (the
 * *_safe helpers): print everything and stop every CPU. */
#include <core/cpu.h>
#include <core/log.h>
#include <core/panic.h>
#include <core/smp.h>
#include <x86/apic.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>
#include <x86/fatal.h>

struct extable_entry {
	u64 insn, fixup;
};
extern const struct extable_entry __start_lamina_extable[], __stop_lamina_extable[];

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved (15)", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization exception",
	"#CP control protection", "reserved (22)", "reserved (23)", "reserved (24)",
	"reserved (25)", "reserved (26)", "reserved (27)", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved (31)",
};

static bool fixup(struct irq_frame *f)
{
	for (const struct extable_entry *e = __start_lamina_extable;
	     e < __stop_lamina_extable; e++) {
		if (e->insn == f->rip) {
			f->rip = e->fixup;
			return true;
		}
	}
	return false;
}

static void dump_frame(const struct irq_frame *f)
{
	log_raw("  rip %016llx  rsp %016llx  rflags %016llx  cs %llx ss %llx\n",
		(unsigned long long)f->rip, (unsigned long long)f->rsp,
		(unsigned long long)f->rflags, (unsigned long long)f->cs,
		(unsigned long long)f->ss);
	log_raw("  rax %016llx  rbx %016llx  rcx %016llx  rdx %016llx\n",
		(unsigned long long)f->rax, (unsigned long long)f->rbx,
		(unsigned long long)f->rcx, (unsigned long long)f->rdx);
	log_raw("  rsi %016llx  rdi %016llx  rbp %016llx  r8  %016llx\n",
		(unsigned long long)f->rsi, (unsigned long long)f->rdi,
		(unsigned long long)f->rbp, (unsigned long long)f->r8);
	log_raw("  r9  %016llx  r10 %016llx  r11 %016llx  r12 %016llx\n",
		(unsigned long long)f->r9, (unsigned long long)f->r10,
		(unsigned long long)f->r11, (unsigned long long)f->r12);
	log_raw("  r13 %016llx  r14 %016llx  r15 %016llx\n",
		(unsigned long long)f->r13, (unsigned long long)f->r14,
		(unsigned long long)f->r15);
	log_raw("  cr0 %016llx  cr2 %016llx  cr3 %016llx  cr4 %016llx\n",
		(unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
		(unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

/* What the machine-check banks hold (those with a valid status). */
static void dump_machine_check(void)
{
	u64 cap = 0, status = 0, mcg = 0, addr;

	if (rdmsr_safe(MSR_MCG_CAP, &cap) || rdmsr_safe(MSR_MCG_STATUS, &mcg))
		return;
	log_raw("  MCG_STATUS %#llx\n", (unsigned long long)mcg);
	for (unsigned int bank = 0; bank < (cap & 0xff); bank++) {
		if (rdmsr_safe(MSR_MC_STATUS(bank), &status) || !(status & MC_STATUS_VAL))
			continue;
		if (!(status & MC_STATUS_ADDRV) || rdmsr_safe(MSR_MC_ADDR(bank), &addr))
			addr = 0;
		log_raw("  MC%u_STATUS %016llx  ADDR %016llx\n", bank,
			(unsigned long long)status, (unsigned long long)addr);
	}
}

static __noreturn void fatal_exception(struct irq_frame *f)
{
	const char *name = f->vector < 32 ? exception_names[f->vector] : "interrupt";

	fatal_begin();
	log_raw("\nlamina: FATAL: exception %s (vector %llu, error code %#llx) on cpu%u\n",
		name, (unsigned long long)f->vector, (unsigned long long)f->error,
		this_cpu_index());
	dump_frame(f);
	if (f->vector == 18)
		dump_machine_check();
	backtrace(f->rip, f->rbp);
	fatal_end();
}

/* An NMI lamina took: from its IDT, or as a VM exit on VT-x (where the
 * exit consumes the NMI and the back end calls this itself). */
void nmi_handle(void)
{
	struct cpu *c = this_cpu();

	if (fatal_in_progress())
		halt_forever();
	/* lamina's own kick (kick() in core/smp.c): it only had to bring the CPU out of
	 * the guest. A guest NMI that coincides with it merges into it, as
	 * two NMIs pending at once do on hardware. */
	if (__atomic_exchange_n(&c->kicked, false, __ATOMIC_ACQ_REL))
		return;
	/* Not ours: the guest gets it at the next entry. */
	c->nmi_pending = true;
}

static bool machine_check_in_progress(void)
{
	u64 mcg = 0;

	return !rdmsr_safe(MSR_MCG_STATUS, &mcg) && (mcg & MCG_STATUS_MCIP);
}

/* Vectors 0-31 while halted (halt_for_interrupt): a fixed interrupt the
 * guest sent a CPU that waits in lamina for its SIPI (from 16, in service
 * at the APIC), or an ExtINT, which is not. Neither is lamina's: dropped,
 * as by a CPU whose APIC INIT disabled. On 18 it may also be a machine
 * check, which pushes no error code either: MCG_STATUS.MCIP tells. */
static void low_vector_interrupt(struct irq_frame *f)
{
	static struct log_limit told = LOG_LIMIT("ExtINTs to a halted CPU");
	u8 vector = (u8)f->vector;

	if (apic_in_service(vector)) {
		apic_eoi();
		return;
	}
	if (vector == 18 && machine_check_in_progress()) {
		f->vector = vector;
		fatal_exception(f);
	}
	if (log_limit_pass(&told))
		log_warn("cpu%u took an interrupt on vector %u that its local APIC did not deliver "
			 "(an ExtINT from an I/O APIC entry or MSI the guest programmed) while "
			 "halted in lamina: dropped", this_cpu_index(), vector);
}

void interrupt_dispatch(struct irq_frame *f);
void interrupt_dispatch(struct irq_frame *f)
{
	if (f->vector == 2) {
		nmi_handle();
		smp_nmi_taken_in_lamina();
		return;
	}
	if (f->vector >= 256) { /* isr_halt_stubs */
		low_vector_interrupt(f);
		return;
	}
	if (f->vector < 32) {
		if (fixup(f))
			return;
		fatal_exception(f);
	}
	if (f->vector == VECTOR_WAKE)
		__atomic_fetch_add(&this_cpu()->wakes, 1, __ATOMIC_RELEASE);
	/* A spurious interrupt is not in service; a fixed one on the same
	 * vector (the guest's) is, and without its EOI it would hold off every
	 * lower one, VECTOR_WAKE included. */
	if (f->vector != VECTOR_SPURIOUS || apic_in_service(VECTOR_SPURIOUS))
		apic_eoi();
}
