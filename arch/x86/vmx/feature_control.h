/* IA32_FEATURE_CONTROL and VMXON (feature_control.c), apart so host unit
 * tests can build it. */
#ifndef VMX_FEATURE_CONTROL_H
#define VMX_FEATURE_CONTROL_H

#include <core/types.h>

#define FEATURE_CONTROL_LOCK BIT(0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX BIT(2)

/* Whether VMXON outside SMX can be allowed given the MSR's value fc; if
 * so, *write is the value it must hold (fc itself when nothing changes). */
bool feature_control_allows_vmx(u64 fc, u64 *write);

#endif
