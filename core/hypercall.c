/* Hypercalls (VMMCALL / VMCALL): the ABI is include/lamina/hypercall.h
 * and docs/hypercalls.md. Every value in and out is 32 bits wide. */
#include <core/cpu.h>
#include <core/exit_handlers.h>
#include <core/init.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/protect.h>
#include <core/smp.h>
#include <core/string.h>

static u32 arg(struct vcpu *v, enum x86_gpr r)
{
	return (u32)v->gpr[r];
}

static void out4(struct vcpu *v, u32 b, u32 c, u32 d, u32 s)
{
	v->gpr[X86_RBX] = b;
	v->gpr[X86_RCX] = c;
	v->gpr[X86_RDX] = d;
	v->gpr[X86_RSI] = s;
}

static s32 hc_version(struct vcpu *v)
{
	out4(v, LAMINA_SIGNATURE, LAMINA_VERSION_CODE, vendor->id, cpu_count);
	return 0;
}

static s32 hc_exit_count(struct vcpu *v)
{
	u32 cpu = arg(v, X86_RBX), reason = arg(v, X86_RCX);
	u64 n = 0;

	if (cpu >= cpu_count || !cpus[cpu] || !cpus[cpu]->vcpu)
		return LAMINA_E_INVAL;
	if (reason < LAMINA_EXIT_COUNT)
		n = __atomic_load_n(&cpus[cpu]->vcpu->exit_counts[reason], __ATOMIC_RELAXED);
	out4(v, (u32)n, (u32)(n >> 32), 0, 0);
	return 0;
}

static s32 hc_meminfo(struct vcpu *v)
{
	out4(v, (u32)home.base, (u32)(home.base >> 32), (u32)home.size,
	     (u32)(home.size >> 32));
	return 0;
}

static s32 hc_selfcheck(struct vcpu *v)
{
	out4(v, protect_selfcheck() ? 1 : 0, 0, 0, 0);
	return 0;
}

static s32 hc_log_read(struct vcpu *v)
{
	u64 off = arg(v, X86_RBX) | ((u64)arg(v, X86_RCX) << 32);
	u32 words[4] = { 0 };
	long n = log_read(off, (char *)words, sizeof(words));

	if (n < 0)
		return LAMINA_E_RANGE;
	out4(v, words[0], words[1], words[2], words[3]);
	return (s32)n;
}

struct hypercall {
	u32 fn;
	bool any_ring;
	s32 (*handler)(struct vcpu *v);
};

static const struct hypercall hypercalls[] = {
	{ LAMINA_HC_VERSION, true, hc_version },
	{ LAMINA_HC_EXIT_COUNT, true, hc_exit_count },
	{ LAMINA_HC_MEMINFO, true, hc_meminfo },
	{ LAMINA_HC_SELFCHECK, false, hc_selfcheck },
	{ LAMINA_HC_LOG_READ, true, hc_log_read },
};

void exit_hypercall(struct vcpu *v)
{
	u32 fn = arg(v, X86_RAX);
	s32 status = LAMINA_E_NOFUNC;

	crash_at_hypercall();
	for (unsigned int i = 0; i < ARRAY_SIZE(hypercalls); i++) {
		if (hypercalls[i].fn != fn)
			continue;
		if (!hypercalls[i].any_ring && vendor->cpl(v) != 0)
			status = LAMINA_E_PERM;
		else
			status = hypercalls[i].handler(v);
		break;
	}
	v->gpr[X86_RAX] = (u64)(s64)status;
	if (vcpu_mode(v) != X86_MODE_64)
		v->gpr[X86_RAX] &= 0xffffffffull;
	vcpu_skip_insn(v);
}
