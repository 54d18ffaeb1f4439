/* QEMU's kvmvapic answers an 8-bit write to port 0x7e by patching
 * physical memory at addresses it takes from its option ROM's state in
 * guest RAM, which the guest can rewrite: QEMU writes there itself, past
 * the nested page tables, so a guest could change lamina's code (shown by
 * the protect kernel's vapic=1). Under QEMU (CPUID leaf 0x40000000 names
 * TCG or KVM) lamina makes port 0x7e answer nothing. No OS needs it: it
 * patches old Windows' TPR accesses, for KVM without APIC virtualization. */
#include <core/io.h>
#include <core/protect.h>
#include <core/string.h>
#include <x86/cpu.h>

#define PORT_VAPIC 0x7e
#define CPUID1_ECX_HYPERVISOR BIT(31)

static bool under_qemu(void)
{
	struct cpuid_regs r;
	char sig[13];

	if (!(cpuid(1).ecx & CPUID1_ECX_HYPERVISOR))
		return false;
	r = cpuid(0x40000000);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 0;
	return !strcmp(sig, "TCGTCGTCGTCG") || !strcmp(sig, "KVMKVMKVM");
}

static struct io_hook vapic_hook = {
	.base = PORT_VAPIC, .count = 1, .name = "QEMU's kvmvapic port", .ops = &io_absent_ops,
};

void qemu_vapic_close(void)
{
	if (under_qemu())
		io_hook_register(&vapic_hook);
}
