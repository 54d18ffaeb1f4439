#ifndef CORE_INIT_H
#define CORE_INIT_H

#include <core/types.h>

/* Vendor-neutral start of lamina, once it runs from its home. */
__noreturn void lamina_main(void);
/* The crash=hypercall test point (see core/init.c). */
void crash_at_hypercall(void);
/* False when a fail-closed option was malformed: the guest must not start. */
extern bool options_ok;

#endif
