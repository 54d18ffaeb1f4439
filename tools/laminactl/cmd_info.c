/* `laminactl version` and `laminactl meminfo`. */
#include <inttypes.h>
#include <stdio.h>

#include <lamina/hypercall.h>

#include "laminactl.h"

static void print_version(const char *who, uint32_t code)
{
	printf("%s version: %u.%u.%u\n", who, (unsigned)(code >> 16) & 0xffu,
	       (unsigned)(code >> 8) & 0xffu, (unsigned)code & 0xffu);
}

static const char *vendor_name(uint32_t vendor)
{
	switch (vendor) {
	case LAMINA_VENDOR_AMD_SVM:
		return "AMD-V (SVM)";
	case LAMINA_VENDOR_INTEL_VMX:
		return "Intel VT-x (VMX)";
	default:
		return "unknown";
	}
}

int cmd_version(const struct lamina_info *info)
{
	print_version("lamina", info->version);
	print_version("laminactl", LAMINA_VERSION_CODE);
	printf("back end: %s\n", vendor_name(info->vendor));
	printf("cpus: %" PRIu32 "\n", info->ncpus);
	if (info->version >> 16 != LAMINA_VERSION_MAJOR)
		fprintf(stderr, "laminactl: warning: lamina's major version differs from "
				"the one laminactl was built for\n");
	return LCTL_OK;
}

int cmd_meminfo(const struct lamina_info *info)
{
	struct hc_regs r = { .eax = LAMINA_HC_MEMINFO };
	uint64_t base, size;

	(void)info;
	if (lamina_request(&r, "meminfo") < 0)
		return LCTL_FAIL;
	base = hc_u64(r.ebx, r.ecx);
	size = hc_u64(r.edx, r.esi);
	if (size == 0) {
		printf("lamina memory: none\n");
		return LCTL_OK;
	}
	/* The same form as Linux's "BIOS-e820: [mem A-B] type" lines. */
	printf("lamina memory: [mem 0x%016" PRIx64 "-0x%016" PRIx64 "] %" PRIu64 " KiB\n",
	       base, base + size - 1, size >> 10);
	return LCTL_OK;
}
