/* The EPT entry format (ept.c), apart so host unit tests can build it. */
#ifndef VMX_EPT_H
#define VMX_EPT_H

#include <x86/pagetable.h>

extern struct pt_format ept_format;

#endif
