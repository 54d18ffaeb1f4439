/* triple_fault: announce it, then triple-fault: with an empty IDT, INT3
 * cannot be delivered (#GP), nor can the #GP, nor the #DF. lamina must
 * report it and stay up; bare, the machine resets. */
#include "print.h"
#include "tap.h"

const char test_name[] = "triple_fault";
const char *const test_options[] = { NULL };

void test_main(void)
{
	static const struct {
		u16 pad, limit;
		u32 base;
	} __packed __aligned(4) empty_idt = { 0, 0, 0 };

	kprintf("lamina-test: triple-fault now\n");
	serial_flush();
	__asm__ volatile("lidt %0\n\tint3" ::"m"(empty_idt.limit));
	tap_check(false, "triple fault: still running after INT3 with an empty IDT");
}
