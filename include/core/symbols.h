/* Names of lamina's functions, for call chains (generated at link time). */
#ifndef CORE_SYMBOLS_H
#define CORE_SYMBOLS_H

#include <core/types.h>

/* The function containing addr and the offset into it, or NULL. */
const char *symbol_lookup(u64 addr, u64 *offset);

#endif
