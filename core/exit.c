/* Exit dispatch: one handler per generic exit reason, from a table. */
#include <core/exit_handlers.h>
#include <core/format.h>
#include <core/log.h>
#include <core/smp.h>
#include <core/vcpu.h>
#include <x86/cpu.h>

static void exit_virt_insn(struct vcpu *v)
{
	/* SVM/VMX are hidden: their instructions do not exist here. */
	vcpu_inject_ud(v);
}

static void exit_invd(struct vcpu *v)
{
	/* INVD would drop dirty lines of lamina's memory too: write back. */
	__asm__ volatile("wbinvd" ::: "memory");
	vcpu_skip_insn(v);
}

static void exit_wbinvd(struct vcpu *v)
{
	exit_invd(v); /* the same write-back, for the guest */
	if (!(v->rflags & RFLAGS_IF))
		smp_cpu_may_go_offline(v);
}

__noreturn void exit_shutdown(struct vcpu *v)
{
	char why[96];

	format(why, sizeof(why), "triple fault (shutdown) on CPU %u at rip %#llx",
	       v->cpu->index, (unsigned long long)v->rip);
	guest_stop(v, why);
}

static void exit_nothing(struct vcpu *v)
{
	/* Counted; the work (NMI reflection) happens before the next entry. */
}

static void exit_unexpected(struct vcpu *v)
{
	char why[96];

	format(why, sizeof(why), "unexpected %s exit %#llx on CPU %u at rip %#llx",
	       vendor->name, (unsigned long long)v->exit.vendor_code,
	       v->cpu->index, (unsigned long long)v->rip);
	guest_stop(v, why);
}

static void exit_private(struct vcpu *v)
{
	if (vendor->handle_private)
		vendor->handle_private(v);
	else
		exit_unexpected(v);
}

typedef void (*exit_handler)(struct vcpu *v);

static const exit_handler handlers[LAMINA_EXIT_COUNT] = {
	[LAMINA_EXIT_CPUID] = exit_cpuid,
	[LAMINA_EXIT_MSR_READ] = exit_rdmsr,
	[LAMINA_EXIT_MSR_WRITE] = exit_wrmsr,
	[LAMINA_EXIT_HYPERCALL] = exit_hypercall,
	[LAMINA_EXIT_NESTED_FAULT] = exit_nested_fault,
	[LAMINA_EXIT_NESTED_MISCONFIG] = exit_private,
	[LAMINA_EXIT_IO] = exit_io,
	[LAMINA_EXIT_NMI] = exit_nothing,
	[LAMINA_EXIT_INIT] = exit_init,
	[LAMINA_EXIT_SIPI] = exit_sipi,
	[LAMINA_EXIT_SHUTDOWN] = exit_shutdown,
	[LAMINA_EXIT_VIRT_INSN] = exit_virt_insn,
	[LAMINA_EXIT_XSETBV] = exit_xsetbv,
	[LAMINA_EXIT_CR_ACCESS] = exit_private,
	[LAMINA_EXIT_EXCEPTION] = vcpu_reflect_exception,
	[LAMINA_EXIT_INTR] = exit_nothing,
	[LAMINA_EXIT_INVD] = exit_invd,
	[LAMINA_EXIT_OTHER] = exit_unexpected,
	[LAMINA_EXIT_WBINVD] = exit_wbinvd,
	[LAMINA_EXIT_TASK_SWITCH] = exit_task_switch,
};

/* Exits of instructions lamina carries out and steps over: their length
 * is found before the handler acts (vcpu_insn_len_ready). */
static const bool steps_over[LAMINA_EXIT_COUNT] = {
	[LAMINA_EXIT_CPUID] = true, [LAMINA_EXIT_MSR_READ] = true,
	[LAMINA_EXIT_MSR_WRITE] = true, [LAMINA_EXIT_HYPERCALL] = true,
	[LAMINA_EXIT_XSETBV] = true, [LAMINA_EXIT_INVD] = true,
	[LAMINA_EXIT_WBINVD] = true,
};

void exit_dispatch(struct vcpu *v)
{
	if (steps_over[v->exit.reason] && !vcpu_insn_len_ready(v))
		return;
	handlers[v->exit.reason](v);
}
