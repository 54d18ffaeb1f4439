/* Choosing how to start the guest, and where its boot data goes. */
#include <core/format.h>
#include <core/guest_mem.h>
#include <core/mm.h>
#include <core/string.h>
#include "loader_int.h"

int place_claim(struct placement *p, u64 base, u64 size, const char *what)
{
	if (p->n == LOADER_MAX_USED) {
		format(p->why, sizeof(p->why),
		       "lamina's table of placed memory is full (%u ranges): no room to place %s",
		       LOADER_MAX_USED, what);
		return -1;
	}
	p->used[p->n++] = (struct mem_range){ base, size, 0 };
	return 0;
}

const char *place_why(const struct placement *p, const char *no_room)
{
	return p->why[0] ? p->why : no_room;
}

/* Empty ranges (released claims, empty modules) overlap nothing. */
bool place_overlaps(const struct placement *p, u64 base, u64 size)
{
	for (unsigned int i = 0; i < p->n && size; i++)
		if (p->used[i].size && base < p->used[i].base + p->used[i].size &&
		    p->used[i].base < base + size)
			return true;
	return false;
}

void place_release_module(struct placement *p, unsigned int i)
{
	p->used[i].size = 0;
}

void place_keep_module(struct placement *p, unsigned int i)
{
	p->used[i].size = boot_info.mods[i].end - boot_info.mods[i].start;
}

bool place_fits_ram(u64 base, u64 size)
{
	return memmap_is_usable(&guest_map, base, size);
}

int place_find(struct placement *p, u64 size, u64 align, u64 limit, u64 *base)
{
	/* Leave the first MiB alone too (firmware data and real-mode habits):
	 * the spare slot past the claims holds it for this search. */
	p->used[p->n] = (struct mem_range){ 0, 1 * MiB, 0 };
	return memmap_find_free(&guest_map, size, align, limit, p->used, p->n + 1, base);
}

int place_alloc(struct placement *p, u64 size, u64 align, u64 limit, u64 *base,
		const char *what)
{
	if (place_find(p, size, align, limit, base))
		return -1;
	return place_claim(p, *base, size, what);
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

static bool ranges_overlap(u64 a, u64 a_end, u64 b, u64 b_end)
{
	return a < a_end && b < b_end && a < b_end && b < a_end;
}

/* What is wrong with module i as the boot loader gave it, or NULL. Its
 * content must be what the loader put there: not overwritten by another
 * module or by lamina's image (its BSS was cleared), and in RAM. */
static const char *module_problem(unsigned int i, char *buf, size_t size)
{
	const struct boot_module *m = &boot_info.mods[i];
	char name[64];

	if (m->end < m->start)
		return "ends before it starts";
	if (m->end == m->start)
		return NULL;
	for (unsigned int j = 0; j < i; j++) {
		const struct boot_module *o = &boot_info.mods[j];
		if (ranges_overlap(m->start, m->end, o->start, o->end)) {
			format(buf, size, "overlaps module %u '%s'", j + 1,
			       module_name(o, name, sizeof(name)));
			return buf;
		}
	}
	if (ranges_overlap(m->start, m->end, boot_info.image_base, boot_info.image_end))
		return "overlaps lamina's image as the boot loader loaded it";
	if (!memmap_is_usable(&boot_info.fw_map, m->start, m->end - m->start))
		return "is not wholly in usable RAM of the firmware's memory map";
	return NULL;
}

/* Modules the guest cannot be given as the loader gave them: NULL, or
 * why (in why[]) the guest does not start. */
static const char *check_modules(char *why, size_t why_size)
{
	char name[64], other[96];

	if (boot_info.mods_unusable) {
		format(why, why_size, "cannot start the guest: %s", boot_info.mods_unusable);
		return why;
	}
	if (boot_info.mods_dropped) {
		format(why, why_size, "cannot start the guest: the boot loader gave %u modules and "
		       "lamina holds %u; module %u and later would be missing",
		       boot_info.nmods + boot_info.mods_dropped, BOOT_MAX_MODULES,
		       BOOT_MAX_MODULES + 1);
		return why;
	}
	for (unsigned int i = 0; i < boot_info.nmods; i++) {
		const struct boot_module *m = &boot_info.mods[i];
		const char *problem = module_problem(i, other, sizeof(other));
		if (!problem)
			continue;
		format(why, why_size, "cannot start the guest: module %u '%s' [%#llx-%#llx) %s",
		       i + 1, module_name(m, name, sizeof(name)), (unsigned long long)m->start,
		       (unsigned long long)m->end, problem);
		return why;
	}
	return NULL;
}

/* Loads the first module as the guest's kernel; NULL or why not. */
static const char *prepare_kernel(struct placement *p, struct guest_entry *out)
{
	const struct boot_module *m = &boot_info.mods[0];

	/* Modules stay where the loader put them unless a loader moves them. */
	for (unsigned int i = 0; i < boot_info.nmods; i++)
		if (place_claim(p, boot_info.mods[i].start,
				boot_info.mods[i].end - boot_info.mods[i].start, "a boot module"))
			return p->why;
	if (linux_detect(m))
		return linux_prepare(m, boot_info.nmods > 1 ? &boot_info.mods[1] : NULL, p, out);
	if (multiboot_detect(m))
		return multiboot_prepare(0, p, out);
	return "it is neither a Linux bzImage (no 'HdrS' boot header) nor a "
	       "Multiboot kernel (no Multiboot header in its first 8 KiB)";
}

const char *loader_prepare(struct guest_entry *out, char *why, size_t why_size)
{
	struct placement p = { .n = 0, .why = "" };
	const struct boot_module *m = &boot_info.mods[0];
	const char *err;
	char name[64];

	if ((err = check_modules(why, why_size)))
		return err;
	if (!boot_info.nmods)
		return "no boot module: give the guest (a Linux bzImage or a Multiboot "
		       "kernel) as the first module";
	if (!(err = prepare_kernel(&p, out)))
		return NULL;
	format(why, why_size, "cannot start module 1 '%s' (%llu bytes): %s",
	       module_name(m, name, sizeof(name)),
	       (unsigned long long)(m->end - m->start), err);
	return why;
}
