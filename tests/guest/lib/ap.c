#include "ap.h"
#include "boot.h"
#include "cpu.h"
#include "trap.h"
#include "util.h"

#define PAGE 4096u
#define LOW_MEM_END 0xa0000u

extern const u8 ap_tramp_start[], ap_tramp_end[];

/* Used by ap.S: one 4 KiB stack per AP, handed out in arrival order. */
u8 ap_stacks[AP_MAX][PAGE] __aligned(16);
volatile u32 ap_next_stack;

static void (*ap_entry)(void);

void ap_main(void);
void ap_main(void)
{
	trap_load_idt();
	if (ap_entry)
		ap_entry();
}

u32 ap_tramp_install(void (*entry)(void))
{
	u32 size = (u32)(ap_tramp_end - ap_tramp_start);

	ap_entry = entry;
	/* Page 0 holds the real-mode IVT and the BIOS data area. */
	for (u32 page = PAGE; page < LOW_MEM_END; page += PAGE) {
		if (!mmap_covered(page, PAGE, MMAP_AVAILABLE))
			continue;
		memcpy(phys(page), ap_tramp_start, size);
		return page / PAGE;
	}
	return 0;
}
