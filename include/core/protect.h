/* lamina's own memory as seen from the guest: absent in the nested
 * tables; an access reads as all-ones, a write is dropped, each page is
 * logged once. And a self-check that lamina's code and canaries are intact. */
#ifndef CORE_PROTECT_H
#define CORE_PROTECT_H

#include <core/types.h>

void protect_init(void);
bool protect_selfcheck(void);
/* Port hooks against what would reach lamina's memory past the nested
 * page tables: the A20 gate (core/a20.c), QEMU's kvmvapic (qemu_ports.c);
 * against a reset that resumes the guest's code outside lamina: the CMOS
 * shutdown byte (cmos_shutdown.c); against QEMU destroying a CPU lamina
 * runs on: its CPU hot-plug eject (qemu_ports.c). And the HPET's page against FSB
 * deliveries aimed at lamina's memory (hpet_guard.c). */
void a20_keep_open(void);
void qemu_ports_guard(void);
void cmos_shutdown_keep_clear(void);
void hpet_guard_init(void);

#endif
