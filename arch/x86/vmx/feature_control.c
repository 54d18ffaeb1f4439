/* IA32_FEATURE_CONTROL (SDM Vol. 3, "Enabling and Entering VMX
 * Operation"): VMXON outside SMX needs bit 2 with the lock bit set. A
 * locked MSR cannot change until reset: firmware that locked it with VMX
 * off disabled VT-x. One left unlocked (real firmware may; Bochs locks it
 * with VMX on) is enabled and locked by lamina, keeping its other bits.
 * Pure: unit-tested on the host (tests/unit/test_feature_control.c). */
#include "feature_control.h"

bool feature_control_allows_vmx(u64 fc, u64 *write)
{
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		*write = fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
		return true;
	}
	*write = fc;
	return fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX;
}
