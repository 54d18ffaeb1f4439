#ifndef CORE_INIT_H
#define CORE_INIT_H

#include <core/types.h>

/* Vendor-neutral start of lamina, once it runs from its home. */
__noreturn void lamina_main(void);
/* False when a fail-closed option was malformed: the guest must not start. */
extern bool options_ok;

#endif
