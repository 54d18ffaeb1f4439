/* Instructions lamina runs on the guest's behalf that may fault: each has
 * an exception-table entry, so a #GP returns -1 instead of being fatal. */
#include <x86/cpu.h>

#define EXTABLE(insn_label, fixup_label)                        \
	".pushsection lamina_extable, \"a\"\n\t.balign 8\n\t"   \
	".quad " insn_label ", " fixup_label "\n\t.popsection\n\t"

int rdmsr_safe(u32 msr, u64 *v)
{
	u32 lo = 0, hi = 0;
	int err = 0;

	__asm__ volatile("1: rdmsr\n\t"
			 "2:\n\t"
			 ".pushsection .text.fixup, \"ax\"\n\t"
			 "3: movl $-1, %2\n\t"
			 "jmp 2b\n\t"
			 ".popsection\n\t" EXTABLE("1b", "3b")
			 : "=a"(lo), "=d"(hi), "+r"(err)
			 : "c"(msr));
	*v = lo | ((u64)hi << 32);
	return err;
}

int wrmsr_safe(u32 msr, u64 v)
{
	int err = 0;

	__asm__ volatile("1: wrmsr\n\t"
			 "2:\n\t"
			 ".pushsection .text.fixup, \"ax\"\n\t"
			 "3: movl $-1, %0\n\t"
			 "jmp 2b\n\t"
			 ".popsection\n\t" EXTABLE("1b", "3b")
			 : "+r"(err)
			 : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
			 : "memory");
	return err;
}

int xsetbv_safe(u32 index, u64 v)
{
	int err = 0;

	__asm__ volatile("1: xsetbv\n\t"
			 "2:\n\t"
			 ".pushsection .text.fixup, \"ax\"\n\t"
			 "3: movl $-1, %0\n\t"
			 "jmp 2b\n\t"
			 ".popsection\n\t" EXTABLE("1b", "3b")
			 : "+r"(err)
			 : "c"(index), "a"((u32)v), "d"((u32)(v >> 32))
			 : "memory");
	return err;
}
