/* Two of QEMU's own ports, under QEMU only (CPUID leaf 0x40000000 names
 * TCG or KVM).
 *
 * Its kvmvapic answers an 8-bit write to port 0x7e by patching physical
 * memory at addresses it takes from its option ROM's state in guest RAM,
 * which the guest can rewrite: QEMU writes there itself, past the nested
 * page tables, so a guest could change lamina's code (shown by the protect
 * kernel's vapic=1). Port 0x7e answers nothing. No OS needs it: it patches
 * old Windows' TPR accesses, for KVM without APIC virtualization.
 *
 * Its ACPI CPU hot-plug block (q35: 0xcd8, PIIX4: 0xaf00) ejects the
 * selected CPU, any but the first, when its flags byte (offset 4) is
 * written with bit 3: QEMU destroys that CPU, lamina running on it or not
 * (smp kernel's eject). lamina clears that bit in every write; the rest
 * passes (an OS scans for CPUs there). CPUs plugged in later, which
 * lamina does not run, cannot be ejected under it either. */
#include <core/io.h>
#include <core/log.h>
#include <core/pci.h>
#include <core/protect.h>
#include <core/string.h>
#include <x86/cpu.h>

#define PORT_VAPIC 0x7e
#define CPUID1_ECX_HYPERVISOR BIT(31)
#define CPUHP_Q35 0xcd8
#define CPUHP_PIIX4 0xaf00
#define CPUHP_SIZE 12
#define CPUHP_FLAGS 4
#define CPUHP_EJECT BIT(3)

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

static struct log_limit ejects = LOG_LIMIT("CPU ejects");

/* The eject bit is taken out of a write that reaches the flags byte; the
 * rest of it (clearing insert or remove events) goes on. */
static void cpuhp_write(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size, u32 val)
{
	unsigned int off = port - h->base;
	u32 eject = off <= CPUHP_FLAGS && off + size > CPUHP_FLAGS ?
			    CPUHP_EJECT << (8 * (CPUHP_FLAGS - off)) : 0;

	if (val & eject) {
		val &= ~eject;
		if (log_limit_pass(&ejects))
			log_warn("CPU %u: the guest asked QEMU to eject a CPU through its hot-plug "
				 "registers (port %#x): dropped, QEMU would destroy it under lamina",
				 v->cpu->index, h->base + CPUHP_FLAGS);
	}
	io_port_write(port, size, val);
}

static const struct io_ops cpuhp_ops = { io_pass_read, cpuhp_write };

static struct io_hook cpuhp_hook = {
	.count = CPUHP_SIZE, .name = "QEMU's CPU hot-plug block", .ops = &cpuhp_ops,
};

/* Where the chipset's ACPI device puts the block: q35's ICH9 LPC bridge or
 * the 440FX's PIIX4 power management function. */
static u16 cpuhp_base(void)
{
	const struct pci_func *f = pci_find(0, 0, 0x1f, 0);

	if (f && f->vendor == PCI_VENDOR_INTEL && f->device == 0x2918)
		return CPUHP_Q35;
	f = pci_find(0, 0, 1, 3);
	if (f && f->vendor == PCI_VENDOR_INTEL && f->device == 0x7113)
		return CPUHP_PIIX4;
	return 0;
}

void qemu_ports_guard(void)
{
	if (!under_qemu())
		return;
	io_hook_register(&vapic_hook);
	cpuhp_hook.base = cpuhp_base();
	if (cpuhp_hook.base)
		io_hook_register(&cpuhp_hook);
}
