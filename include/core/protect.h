/* lamina's own memory as seen from the guest: absent in the nested
 * tables; an access reads as all-ones, a write is dropped, each page is
 * logged once. And a self-check that lamina's code and canaries are intact. */
#ifndef CORE_PROTECT_H
#define CORE_PROTECT_H

#include <core/types.h>

void protect_init(void);
bool protect_selfcheck(void);

#endif
