/* The C entry of every test kernel: set up, run the test, report. */
#include "boot.h"
#include "hc.h"
#include "print.h"
#include "tap.h"
#include "trap.h"

void kernel_start(void);
void kernel_start(void)
{
	serial_init();
	trap_init();
	kprintf("\n# lamina-test: start %s\n", test_name);
	boot_init();
	hc_init();
	test_main();
	tap_done();
}
