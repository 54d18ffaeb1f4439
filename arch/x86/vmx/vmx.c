/* Intel VT-x back end: not built yet (it comes with its own issue). The
 * vendor table exists so that lamina says so clearly on Intel CPUs. */
#include <core/vcpu.h>

static const char *vmx_check(void)
{
	return "the Intel VT-x back end is not implemented yet";
}

const struct vendor_ops vmx_ops = {
	.name = "VT-x",
	.id = LAMINA_VENDOR_INTEL_VMX,
	.check = vmx_check,
};
