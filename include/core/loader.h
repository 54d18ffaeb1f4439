/* Starting the guest from the boot modules: the first module decides how
 * (a Linux bzImage or a Multiboot kernel). */
#ifndef CORE_LOADER_H
#define CORE_LOADER_H

#include <core/bootinfo.h>
#include <core/vcpu.h>

struct guest_entry {
	const char *kind;        /* "Linux", "Multiboot" */
	struct vcpu_reset reset; /* 32-bit flat protected mode at the entry */
	u64 eax, ebx, esi;
};

/* Load the guest into memory; NULL, or why it cannot be started (a
 * complete sentence naming the module). */
const char *loader_prepare(struct guest_entry *out, char *why, size_t why_size);

#endif
