/* The hypercall instruction, behind a probe: without lamina it raises
 * #UD (VMMCALL with EFER.SVME clear, VMCALL outside VMX operation). */
#include "cpu.h"
#include "hc.h"
#include "print.h"
#include "trap.h"
#include "util.h"

static bool amd, present;

/* The two instructions differ only in their opcode. */
#define HC_INSN(fn, insn)                                                       \
	static int fn(struct hc_regs *r)                                        \
	{                                                                       \
		__asm__ volatile(PROBE(insn)                                    \
				 : "+a"(r->eax), "+b"(r->ebx), "+c"(r->ecx),    \
				   "+d"(r->edx), "+S"(r->esi)                   \
				 :                                              \
				 : "memory");                                   \
		return trap_vector;                                             \
	}

HC_INSN(vmmcall, "vmmcall")
HC_INSN(vmcall, "vmcall")

int hc_call(struct hc_regs *r)
{
	return amd ? vmmcall(r) : vmcall(r);
}

int hc_call_other(struct hc_regs *r)
{
	return amd ? vmcall(r) : vmmcall(r);
}

bool lamina_present(void)
{
	return present;
}

void hc_init(void)
{
	struct hc_regs r = { .eax = LAMINA_HC_VERSION };
	int vec;

	amd = cpu_is_amd();
	vec = hc_call(&r);
	present = vec == TRAP_NONE && r.eax == 0 && r.ebx == LAMINA_SIGNATURE;
	if (present)
		kprintf("# lamina: present, version 0x%x, %u CPUs\n", r.ecx, r.esi);
	else if (vec != TRAP_NONE)
		kprintf("# lamina: absent (%s raised %s)\n", amd ? "VMMCALL" : "VMCALL",
			vector_name(vec));
	else
		kprintf("# lamina: absent (no magic: eax=0x%x ebx=0x%x)\n", r.eax, r.ebx);
}

bool hc_exit_count(u32 cpu, u32 reason, u64 *count)
{
	struct hc_regs r = { .eax = LAMINA_HC_EXIT_COUNT, .ebx = cpu, .ecx = reason };

	if (hc_call(&r) != TRAP_NONE || r.eax != 0)
		return false;
	*count = hc_pair(r.ebx, r.ecx);
	return true;
}

bool hc_meminfo(u64 *base, u64 *size)
{
	struct hc_regs r = { .eax = LAMINA_HC_MEMINFO };

	if (hc_call(&r) != TRAP_NONE || r.eax != 0)
		return false;
	*base = hc_pair(r.ebx, r.ecx);
	*size = hc_pair(r.edx, r.esi);
	return true;
}

u32 hc_log_read(u64 off, char *buf, u32 cap, s32 *status)
{
	u32 len = 0;

	*status = 0;
	while (len + 16 <= cap) {
		struct hc_regs r = { .eax = LAMINA_HC_LOG_READ, .ebx = (u32)(off + len),
				     .ecx = (u32)((off + len) >> 32) };
		u32 text[4];

		hc_call(&r);
		*status = hc_status(&r);
		if (*status <= 0 || *status > 16)
			break;
		text[0] = r.ebx, text[1] = r.ecx, text[2] = r.edx, text[3] = r.esi;
		memcpy(buf + len, text, (u32)*status);
		len += (u32)*status;
	}
	return len;
}
