/* The last EXIT_HISTORY exits of each vCPU, kept so that a fatal error's
 * report shows what the guest had just done: the exit that led into a
 * fault in lamina is usually the first thing to know about it. */
#include <core/cpu.h>
#include <core/exit_history.h>
#include <core/format.h>
#include <core/log.h>
#include <core/time.h>
#include <x86/cpu.h>

static const char *const reason_names[LAMINA_EXIT_COUNT] = {
#define REASON_NAME(e, n) [LAMINA_EXIT_##e] = n,
	LAMINA_EXIT_REASONS(REASON_NAME)
#undef REASON_NAME
};

void exit_history_record(struct vcpu *v)
{
	struct exit_record *r = &v->history[v->history_next % EXIT_HISTORY];

	r->tsc = rdtsc(); /* converted only when printed */
	r->rip = v->rip;
	r->rax = v->gpr[X86_RAX];
	r->rcx = v->gpr[X86_RCX];
	r->exit = v->exit;
	__atomic_store_n(&v->history_next, v->history_next + 1, __ATOMIC_RELEASE);
}

/* What the exit was about, in the words of its reason. */
static void describe(const struct exit_record *r, char *buf, size_t len)
{
	const struct vm_exit *e = &r->exit;

	switch (e->reason) {
	case LAMINA_EXIT_CPUID:
		format(buf, len, "leaf %#x.%#x", (u32)r->rax, (u32)r->rcx);
		break;
	case LAMINA_EXIT_MSR_READ:
	case LAMINA_EXIT_MSR_WRITE:
		format(buf, len, "msr %#x", (u32)r->rcx);
		break;
	case LAMINA_EXIT_HYPERCALL:
		format(buf, len, "function %#x", (u32)r->rax);
		break;
	case LAMINA_EXIT_NESTED_FAULT:
		format(buf, len, "gpa %#llx %s", (unsigned long long)e->npf.gpa,
		       e->npf.fetch ? "fetch" : e->npf.write ? "write" : "read");
		break;
	case LAMINA_EXIT_IO:
		format(buf, len, "port %#x %s%s %u byte(s)", e->io.port, e->io.in ? "in" : "out",
		       e->io.string ? (e->io.rep ? " rep string" : " string") : "", e->io.size);
		break;
	case LAMINA_EXIT_EXCEPTION:
		format(buf, len, "vector %u error %#x", e->exception.vector, e->exception.error);
		break;
	case LAMINA_EXIT_SIPI:
		format(buf, len, "vector %#x", e->sipi.vector);
		break;
	case LAMINA_EXIT_TASK_SWITCH:
		format(buf, len, "selector %#x", e->task_switch.sel);
		break;
	default:
		buf[0] = '\0';
	}
}

/* Microseconds from then to now by the TSC (the reporting CPU's now, the
 * recording CPU's then: in step unless the guest wrote one; negative if
 * it set it back). */
static long long us_before(u64 now, u64 then)
{
	u64 khz = tsc_khz();

	return khz ? (s64)(now - then) * 1000 / (s64)khz : 0;
}

static void print_cpu(const struct cpu *c, u32 max, u64 now)
{
	const struct vcpu *v = c->vcpu;
	u32 total = v ? __atomic_load_n(&v->history_next, __ATOMIC_ACQUIRE) : 0;
	u32 n = MIN(MIN(total, (u32)EXIT_HISTORY), max);
	char what[64];

	if (!n)
		return;
	log_raw("  cpu%u's last %u of %u exits, newest first:\n", c->index, n, total);
	for (u32 i = 1; i <= n; i++) {
		const struct exit_record *r = &v->history[(total - i) % EXIT_HISTORY];
		const char *name = r->exit.reason < LAMINA_EXIT_COUNT ?
					   reason_names[r->exit.reason] : "?";

		describe(r, what, sizeof(what));
		log_raw("    %-13s rip %016llx  code %#llx  %lld us before  %s\n", name,
			(unsigned long long)r->rip, (unsigned long long)r->exit.vendor_code,
			us_before(now, r->tsc), what);
	}
}

void exit_history_print(void)
{
	const struct cpu *self = this_cpu();
	u64 now = rdtsc();

	print_cpu(self, EXIT_HISTORY, now);
	for (unsigned int i = 0; i < cpu_count; i++)
		if (cpus[i] && cpus[i] != self)
			print_cpu(cpus[i], 4, now);
}
