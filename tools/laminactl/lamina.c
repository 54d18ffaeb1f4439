/* Finding lamina, and making requests with uniform error reports. */
#include <stdio.h>

#include <lamina/hypercall.h>

#include "laminactl.h"

const char *lamina_strerror(int32_t status)
{
	switch (status) {
	case LAMINA_E_NOFUNC:
		return "unknown function";
	case LAMINA_E_PERM:
		return "function needs ring 0";
	case LAMINA_E_INVAL:
		return "bad argument";
	case LAMINA_E_RANGE:
		return "log offset no longer in the ring";
	default:
		return "unexpected status";
	}
}

int lamina_probe(struct lamina_info *info)
{
	struct hc_regs r = { .eax = LAMINA_HC_VERSION };

	/* A fault means no hypervisor took the call; another hypervisor
	 * answers with an error and no signature. */
	if (hc_call(&r) != 0 || hc_status(&r) != 0 || r.ebx != LAMINA_SIGNATURE) {
		fprintf(stderr, "laminactl: not running under lamina\n");
		return -1;
	}
	info->version = r.ecx;
	info->vendor = r.edx;
	info->ncpus = r.esi;
	return 0;
}

int32_t lamina_request(struct hc_regs *r, const char *what)
{
	int32_t status;

	if (hc_call(r) != 0) {
		fprintf(stderr, "laminactl: %s: the hypercall faulted\n", what);
		return LAMINA_E_NOFUNC;
	}
	status = hc_status(r);
	if (status < 0)
		fprintf(stderr, "laminactl: %s: %s (status %d)\n", what,
			lamina_strerror(status), (int)status);
	return status;
}
