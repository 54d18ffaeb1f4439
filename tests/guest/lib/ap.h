/* Application processors: the real-mode trampoline a SIPI points them at,
 * which takes them to 32-bit protected mode on a stack of their own and
 * into a C function. */
#ifndef GUEST_AP_H
#define GUEST_AP_H

#define AP_MAX 63 /* APs with a stack; later ones halt at once */

#ifndef __ASSEMBLY__
#include <core/types.h>

/* Copies the trampoline into a page below 1 MiB that the memory map says
 * is available. Returns the SIPI vector (page number), 0 if none found.
 * `entry` runs on each AP that gets there; when it returns, the AP halts
 * (cli; hlt) for good. */
u32 ap_tramp_install(void (*entry)(void));
#endif

#endif
