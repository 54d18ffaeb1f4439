/* Choosing how to start the guest, and where its boot data goes. */
#include <core/format.h>
#include <core/guest_mem.h>
#include <core/mm.h>
#include <core/string.h>
#include "loader_int.h"

void place_claim(struct placement *p, u64 base, u64 size)
{
	if (p->n < LOADER_MAX_USED)
		p->used[p->n++] = (struct mem_range){ base, size, 0 };
}

bool place_overlaps(const struct placement *p, u64 base, u64 size)
{
	for (unsigned int i = 0; i < p->n; i++)
		if (base < p->used[i].base + p->used[i].size && p->used[i].base < base + size)
			return true;
	return false;
}

bool place_fits_ram(u64 base, u64 size)
{
	return memmap_is_usable(&guest_map, base, size);
}

int place_alloc(struct placement *p, u64 size, u64 align, u64 limit, u64 *base)
{
	/* Leave the first MiB alone: firmware data and real-mode habits. */
	struct placement avoid = *p;

	place_claim(&avoid, 0, 1 * MiB);
	if (memmap_find_free(&guest_map, size, align, limit, avoid.used, avoid.n, base))
		return -1;
	place_claim(p, *base, size);
	return 0;
}

void write_boot_gdt(u64 gpa, struct vcpu_reset *r)
{
	u64 *gdt = phys_to_virt(gpa);

	gdt[0] = gdt[1] = 0;
	gdt[2] = 0x00cf9a000000ffffull; /* BOOT_CS: flat 32-bit code */
	gdt[3] = 0x00cf92000000ffffull; /* BOOT_DS: flat data */
	r->protected_flat = true;
	r->cs_sel = BOOT_CS;
	r->ds_sel = BOOT_DS;
	r->gdt_base = gpa;
	r->gdt_limit = BOOT_GDT_SIZE - 1;
}

static const char *module_name(const struct boot_module *m, char *buf, size_t size)
{
	size_t n = 0;

	while (m->cmdline[n] && m->cmdline[n] != ' ' && n + 1 < size) {
		buf[n] = m->cmdline[n];
		n++;
	}
	buf[n] = 0;
	return n ? buf : "(unnamed)";
}

const char *loader_prepare(struct guest_entry *out, char *why, size_t why_size)
{
	struct placement p = { .n = 0 };
	const struct boot_module *m = &boot_info.mods[0];
	const char *err;
	char name[64];

	if (!boot_info.nmods)
		return "no boot module: give the guest (a Linux bzImage or a Multiboot "
		       "kernel) as the first module";
	/* Modules stay where the loader put them unless a loader moves them. */
	for (unsigned int i = 0; i < boot_info.nmods; i++)
		place_claim(&p, boot_info.mods[i].start,
			    boot_info.mods[i].end - boot_info.mods[i].start);
	if (linux_detect(m))
		err = linux_prepare(m, boot_info.nmods > 1 ? &boot_info.mods[1] : NULL, &p, out);
	else if (multiboot_detect(m))
		err = multiboot_prepare(0, &p, out);
	else
		err = "it is neither a Linux bzImage (no 'HdrS' boot header) nor a "
		      "Multiboot kernel (no Multiboot header in its first 8 KiB)";
	if (!err)
		return NULL;
	format(why, why_size, "cannot start module 1 '%s' (%llu bytes): %s",
	       module_name(m, name, sizeof(name)),
	       (unsigned long long)(m->end - m->start), err);
	return why;
}
