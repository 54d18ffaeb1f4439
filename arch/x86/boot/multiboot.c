/* Reads the Multiboot 1 or 2 information block into boot_info. Everything
 * is copied: the block and its strings lie in memory the guest will own.
 * The loader's addresses are not trusted: lamina reads them through its
 * early identity map, which ends at 4 GiB, and a read past that would
 * fault before lamina could say why. */
#include <core/bootinfo.h>
#include <core/format.h>
#include <core/mm.h>
#include <core/string.h>
#include <x86/multiboot.h>

struct boot_info boot_info;

/* The loader's map as given, before sanitizing: many entries may merge
 * into few ranges, so all are read first. */
static struct memmap_raw raw_map;

#define EARLY_MAP_END (4 * GiB)

/* Messages with the loader's numbers in them. */
static char why[160], mods_why[160];

static bool readable(u64 pa, u64 len)
{
	return pa <= EARLY_MAP_END && len <= EARLY_MAP_END - pa;
}

/* A string of the loader's, at most max bytes long; true if it did not
 * fit in dst. */
static bool copy_str(char *dst, size_t size, const char *src, u64 max)
{
	size_t len = strnlen(src, MIN(max, (u64)size));
	size_t n = MIN(len, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
	return len > n;
}

/* A string the loader points at, read no further than the early map. */
static bool copy_str_at(char *dst, size_t size, u64 pa)
{
	if (!pa || !readable(pa, 1))
		return copy_str(dst, size, "", 1);
	return copy_str(dst, size, phys_to_virt(pa), EARLY_MAP_END - pa);
}

/* The next module, as given, or NULL (counted) if it is one too many.
 * Modules keep their positions: the first is the guest's kernel. */
static struct boot_module *add_module(struct boot_info *bi, u64 start, u64 end)
{
	if (bi->nmods == BOOT_MAX_MODULES) {
		bi->mods_dropped++;
		return NULL;
	}
	struct boot_module *m = &bi->mods[bi->nmods++];
	m->start = start;
	m->end = end;
	return m;
}

/* The module table; a table lamina cannot read keeps the guest from
 * starting (bi->mods_unusable), but lamina goes on. */
static void parse_mb1_modules(const struct mb1_info *mbi, struct boot_info *bi)
{
	u32 n = MIN(mbi->mods_count, (u32)BOOT_MAX_MODULES);

	if (!readable(mbi->mods_addr, (u64)n * sizeof(struct mb1_module))) {
		format(mods_why, sizeof(mods_why), "the boot loader's table of %u modules at %#x "
		       "runs past 4 GiB, where lamina cannot read it", mbi->mods_count,
		       mbi->mods_addr);
		bi->mods_unusable = mods_why;
		return;
	}
	const struct mb1_module *mods = phys_to_virt(mbi->mods_addr);
	bi->mods_dropped += mbi->mods_count - n;
	for (u32 i = 0; i < n; i++) {
		struct boot_module *m = add_module(bi, mods[i].mod_start, mods[i].mod_end);
		if (m)
			m->cmdline_cut = copy_str_at(m->cmdline, sizeof(m->cmdline),
						     mods[i].string);
	}
}

static const char *parse_mb1_mmap(const struct mb1_info *mbi)
{
	u64 p = mbi->mmap_addr, end = p + mbi->mmap_length;

	if (!readable(p, mbi->mmap_length)) {
		format(why, sizeof(why), "the boot loader's memory map at %#llx (%u bytes) runs "
		       "past 4 GiB, where lamina cannot read it", (unsigned long long)p,
		       mbi->mmap_length);
		return why;
	}
	while (p + sizeof(struct mb1_mmap_entry) <= end) {
		const struct mb1_mmap_entry *e = phys_to_virt(p);
		/* base, length and type: 20 bytes after the size field */
		if (e->size < sizeof(*e) - sizeof(e->size)) {
			format(why, sizeof(why), "the boot loader's memory map has an entry at "
			       "%#llx of %u bytes, fewer than the 20 of base, length and type",
			       (unsigned long long)p, e->size);
			return why;
		}
		memmap_raw_add(&raw_map, e->base, e->length, e->type);
		p += e->size + sizeof(e->size);
	}
	return NULL;
}

static const char *parse_mb1(u64 info_pa, struct boot_info *bi)
{
	const struct mb1_info *mbi = phys_to_virt(info_pa);

	if (!readable(info_pa, sizeof(*mbi))) {
		format(why, sizeof(why), "the Multiboot information at %#llx runs past 4 GiB",
		       (unsigned long long)info_pa);
		return why;
	}
	bi->protocol = 1;
	bi->info_base = info_pa;
	bi->info_size = sizeof(*mbi);
	if (mbi->flags & MB1_INFO_CMDLINE)
		bi->cmdline_cut = copy_str_at(bi->cmdline, sizeof(bi->cmdline), mbi->cmdline);
	if (mbi->flags & MB1_INFO_LOADER_NAME)
		copy_str_at(bi->loader, sizeof(bi->loader), mbi->boot_loader_name);
	if (mbi->flags & MB1_INFO_MODS)
		parse_mb1_modules(mbi, bi);
	if (mbi->flags & MB1_INFO_MMAP)
		return parse_mb1_mmap(mbi);
	if (mbi->flags & MB1_INFO_MEMORY) {
		memmap_raw_add(&raw_map, 0, (u64)mbi->mem_lower << 10, MEM_USABLE);
		memmap_raw_add(&raw_map, 1 * MiB, (u64)mbi->mem_upper << 10, MEM_USABLE);
		return NULL;
	}
	return "the boot loader gave no memory map";
}

static void parse_mb2_tag(const struct mb2_tag *t, struct boot_info *bi)
{
	const char *payload = (const char *)(t + 1);
	u32 len = t->size - sizeof(*t);

	switch (t->type) {
	case MB2_TAG_CMDLINE:
		bi->cmdline_cut = copy_str(bi->cmdline, sizeof(bi->cmdline), payload, len);
		break;
	case MB2_TAG_LOADER_NAME:
		copy_str(bi->loader, sizeof(bi->loader), payload, len);
		break;
	case MB2_TAG_MODULE: {
		const struct mb2_tag_module *m = (const void *)t;
		struct boot_module *bm;
		if (t->size < sizeof(*m) || !(bm = add_module(bi, m->mod_start, m->mod_end)))
			break;
		bm->cmdline_cut = copy_str(bm->cmdline, sizeof(bm->cmdline), m->string,
					   t->size - sizeof(*m));
		break;
	}
	case MB2_TAG_MMAP: {
		const struct mb2_tag_mmap *mm = (const void *)t;
		if (mm->entry_size < sizeof(struct mb2_mmap_entry))
			break;
		for (u64 off = sizeof(*mm); off + sizeof(struct mb2_mmap_entry) <= t->size;
		     off += mm->entry_size) {
			const struct mb2_mmap_entry *e = (const void *)((const char *)t + off);
			memmap_raw_add(&raw_map, e->base, e->length, e->type);
		}
		break;
	}
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		if (!bi->has_rsdp || t->type == MB2_TAG_ACPI_NEW) {
			memcpy(bi->rsdp, payload, MIN(len, (u32)sizeof(bi->rsdp)));
			bi->has_rsdp = true;
		}
		break;
	}
}

static const char *parse_mb2(u64 info_pa, struct boot_info *bi)
{
	const u32 *hdr = phys_to_virt(info_pa);

	if (!readable(info_pa, 8) || !readable(info_pa, hdr[0])) {
		format(why, sizeof(why), "the Multiboot2 information at %#llx runs past 4 GiB",
		       (unsigned long long)info_pa);
		return why;
	}
	u32 total = hdr[0];
	bi->protocol = 2;
	bi->info_base = info_pa;
	bi->info_size = total;
	for (u64 off = 8; off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *t = (const void *)((const char *)hdr + off);
		if (t->type == MB2_TAG_END || t->size < sizeof(*t) || t->size > total - off)
			break;
		parse_mb2_tag(t, bi);
		off += ALIGN_UP((u64)t->size, 8);
	}
	if (!raw_map.n)
		return "the boot loader gave no memory map";
	return NULL;
}

const char *bootinfo_parse(u32 magic, u64 info_pa, struct boot_info *bi)
{
	const char *err;

	raw_map.n = raw_map.lost = 0;
	if (magic == MB1_BOOTLOADER_MAGIC)
		err = parse_mb1(info_pa, bi);
	else if (magic == MB2_BOOTLOADER_MAGIC)
		err = parse_mb2(info_pa, bi);
	else
		return "not started by a Multiboot loader (bad magic in EAX)";
	bi->fw_map_unread = raw_map.lost;
	bi->fw_map_left_out = memmap_from_raw(&bi->fw_map, &raw_map);
	return err;
}
