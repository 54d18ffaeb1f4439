/* Instructions lamina runs on the guest's behalf that may fault: each has
 * an exception-table entry, so a #GP returns -1 instead of being fatal. */
#include <x86/cpu.h>

/* insn at label 1; on a fault the handler resumes at 3, which sets err
 * to -1 and continues after the instruction. */
#define SAFE_INSN(insn, err_operand)                                   \
	"1: " insn "\n\t"                                              \
	"2:\n\t"                                                       \
	".pushsection .text.fixup, \"ax\"\n\t"                         \
	"3: movl $-1, " err_operand "\n\t"                             \
	"jmp 2b\n\t"                                                   \
	".popsection\n\t"                                              \
	".pushsection lamina_extable, \"a\"\n\t.balign 8\n\t"          \
	".quad 1b, 3b\n\t"                                             \
	".popsection\n\t"

int rdmsr_safe(u32 msr, u64 *v)
{
	u32 lo = 0, hi = 0;
	int err = 0;

	__asm__ volatile(SAFE_INSN("rdmsr", "%2")
			 : "=a"(lo), "=d"(hi), "+r"(err)
			 : "c"(msr));
	*v = lo | ((u64)hi << 32);
	return err;
}

int wrmsr_safe(u32 msr, u64 v)
{
	int err = 0;

	__asm__ volatile(SAFE_INSN("wrmsr", "%0")
			 : "+r"(err)
			 : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
			 : "memory");
	return err;
}

int xsetbv_safe(u32 index, u64 v)
{
	int err = 0;

	__asm__ volatile(SAFE_INSN("xsetbv", "%0")
			 : "+r"(err)
			 : "c"(index), "a"((u32)v), "d"((u32)(v >> 32))
			 : "memory");
	return err;
}
