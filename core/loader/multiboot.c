/* Multiboot 1: the kernel starts exactly as if the boot loader had loaded
 * it — EAX magic, EBX a Multiboot information block with memory sizes, a
 * memory map (lamina's home reserved), its command line unchanged, and the
 * remaining modules passed on. */
#include <core/guest_mem.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/string.h>
#include <core/version.h>
#include <x86/multiboot.h>
#include "loader_int.h"

#define MB1_FLAG_PAGE_ALIGN BIT(0)
#define MB1_FLAG_MEMINFO BIT(1)
#define MB1_FLAG_VIDEO BIT(2)
#define MB1_FLAG_AOUT BIT(16)
#define MB1_KNOWN_REQUIRED (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMINFO)

struct segment_load {
	u64 dest, file_off, file_size, mem_size;
};

struct mb_kernel {
	const u8 *file;
	u64 file_size;
	const struct mb1_header *hdr;
	u64 hdr_off;
	struct segment_load seg[LOADER_MAX_SEGMENTS];
	unsigned int nseg;
	u64 entry;
};

/* The header's magic, flags and checksum lie within the first 8 KiB; the
 * a.out fields after them are there only with MB1_FLAG_AOUT. */
static const struct mb1_header *find_header(const u8 *file, u64 size, u64 *off)
{
	const u64 need = offsetof(struct mb1_header, header_addr);

	for (u64 o = 0; o + need <= MIN(size, (u64)MB1_SEARCH_BYTES); o += 4) {
		const struct mb1_header *h = (const void *)(file + o);
		if (h->magic == MB1_HEADER_MAGIC && h->magic + h->flags + h->checksum == 0) {
			*off = o;
			return h;
		}
	}
	return NULL;
}

bool multiboot_detect(const struct boot_module *m)
{
	u64 off;

	return find_header(phys_to_virt(m->start), m->end - m->start, &off) != NULL;
}

static const char *parse_aout(struct mb_kernel *k)
{
	const struct mb1_header *h = k->hdr;

	if (sizeof(*h) > k->file_size - k->hdr_off)
		return "its Multiboot header's a.out fields run past the end of the file";
	if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > k->hdr_off)
		return "its Multiboot a.out addresses do not match the file";
	u64 start = k->hdr_off - (h->header_addr - h->load_addr);
	if (h->load_end_addr && h->load_end_addr < h->load_addr)
		return "its Multiboot load range ends before it starts";
	u64 len = h->load_end_addr ? h->load_end_addr - h->load_addr : k->file_size - start;
	if (len > k->file_size - start)
		return "its Multiboot load range runs past the end of the file";
	if (h->bss_end_addr && h->bss_end_addr < h->load_addr)
		return "its Multiboot BSS ends before its load address";
	u64 mem = h->bss_end_addr ? (u64)h->bss_end_addr - h->load_addr : len;
	k->seg[0] = (struct segment_load){ h->load_addr, start, len, MAX(mem, len) };
	k->nseg = 1;
	k->entry = h->entry_addr;
	return NULL;
}

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62

/* An x86 executable, 32- or 64-bit, of at least the ELF64 header's size. */
static const char *check_elf_identity(const struct mb_kernel *k)
{
	const u8 *f = k->file;
	u16 type, machine;

	if (k->file_size < 64 || memcmp(f, "\177ELF", 4))
		return "it has a Multiboot header without the a.out fields but is not ELF";
	memcpy(&type, f + 16, 2);
	memcpy(&machine, f + 18, 2);
	if (f[EI_CLASS] != ELFCLASS32 && f[EI_CLASS] != ELFCLASS64)
		return "its ELF class is neither 32-bit nor 64-bit";
	if (f[EI_DATA] != ELFDATA2LSB)
		return "it is not a little-endian ELF file";
	if (machine != EM_386 && machine != EM_X86_64)
		return "it is an ELF file for another machine than x86 (e_machine)";
	if (type != ET_EXEC)
		return "it is not an ELF executable (e_type is not ET_EXEC)";
	return NULL;
}

/* ELF32 or ELF64 program headers, loaded at their physical addresses. */
static const char *parse_elf(struct mb_kernel *k)
{
	const u8 *f = k->file;
	const char *err = check_elf_identity(k);
	bool is64;
	u64 phoff, entry;
	u16 phnum, phentsize;

	if (err)
		return err;
	is64 = f[EI_CLASS] == ELFCLASS64;
	memcpy(&phnum, f + (is64 ? 56 : 44), 2);
	memcpy(&phentsize, f + (is64 ? 54 : 42), 2);
	phoff = 0;
	memcpy(&phoff, f + (is64 ? 32 : 28), is64 ? 8 : 4);
	entry = 0;
	memcpy(&entry, f + 24, is64 ? 8 : 4);
	if (phnum && phentsize < (is64 ? 56 : 32))
		return "its ELF program headers are smaller than the ELF format's";
	if (phoff > k->file_size || (u64)phnum * phentsize > k->file_size - phoff)
		return "its ELF program headers run past the end of the file";
	k->entry = entry;
	for (unsigned int i = 0; i < phnum; i++) {
		const u8 *ph = f + phoff + (u64)i * phentsize;
		u32 type;
		u64 off = 0, vaddr = 0, paddr = 0, filesz = 0, memsz = 0;
		memcpy(&type, ph, 4);
		if (type != 1) /* PT_LOAD */
			continue;
		if (is64) {
			memcpy(&off, ph + 8, 8); memcpy(&vaddr, ph + 16, 8);
			memcpy(&paddr, ph + 24, 8); memcpy(&filesz, ph + 32, 8);
			memcpy(&memsz, ph + 40, 8);
		} else {
			memcpy(&off, ph + 4, 4); memcpy(&vaddr, ph + 8, 4);
			memcpy(&paddr, ph + 12, 4); memcpy(&filesz, ph + 16, 4);
			memcpy(&memsz, ph + 20, 4);
		}
		if (off > k->file_size || filesz > k->file_size - off || filesz > memsz)
			return "an ELF segment runs past the end of the file";
		if (paddr + memsz < paddr)
			return "an ELF segment runs past the end of memory";
		if (k->nseg == LOADER_MAX_SEGMENTS)
			return "it has too many ELF segments";
		/* The entry point is virtual; find its physical address. */
		if (entry >= vaddr && entry - vaddr < memsz)
			k->entry = entry - vaddr + paddr;
		k->seg[k->nseg++] = (struct segment_load){ paddr, off, filesz, memsz };
	}
	return k->nseg ? NULL : "it has no loadable ELF segments";
}

/* The segments' memory, claimed before anything else is placed. */
static const char *claim_segments(const struct mb_kernel *k, struct placement *p)
{
	for (unsigned int s = 0; s < k->nseg; s++) {
		const struct segment_load *g = &k->seg[s];
		if (g->dest >= 4 * GiB || g->mem_size > 4 * GiB - g->dest)
			return "it wants to load above 4 GiB, out of reach of a 32-bit entry";
		if (!place_fits_ram(g->dest, g->mem_size))
			return "it wants to load where there is no free RAM";
		if (place_claim(p, g->dest, g->mem_size, "an ELF segment"))
			return p->why;
	}
	return NULL;
}

/* Move boot modules out of the kernel's way and below 4 GiB (they are
 * passed on, with 32-bit addresses). */
static const char *clear_modules(const struct mb_kernel *k, unsigned int first,
				 struct placement *p)
{
	for (unsigned int i = first + 1; i < boot_info.nmods; i++) {
		struct boot_module *m = &boot_info.mods[i];
		u64 size = m->end - m->start, at;
		bool hit = m->end > 4 * GiB;
		for (unsigned int s = 0; s < k->nseg; s++) /* an empty module is in no way */
			hit |= size && m->start < k->seg[s].dest + k->seg[s].mem_size &&
			       k->seg[s].dest < m->end;
		if (!hit)
			continue;
		if (place_alloc(p, ALIGN_UP(MAX(size, 1), PAGE_SIZE), PAGE_SIZE, 4 * GiB, &at,
				"a boot module moved out of its way"))
			return place_why(p, "no free RAM to move a boot module out of its way");
		memmove(phys_to_virt(at), phys_to_virt(m->start), size);
		m->start = at;
		m->end = at + size;
	}
	return NULL;
}

static const char *load_segments(struct mb_kernel *k, const struct boot_module *km,
				 struct placement *p)
{
	/* If a segment lands on the kernel file itself, copy the file away first. */
	for (unsigned int s = 0; s < k->nseg; s++) {
		const struct segment_load *g = &k->seg[s];
		if (g->dest < km->end && km->start < g->dest + g->mem_size) {
			u64 at;
			if (place_alloc(p, ALIGN_UP(k->file_size, PAGE_SIZE), PAGE_SIZE, UINT64_MAX,
					&at, "the staged kernel file"))
				return place_why(p, "no free RAM to stage the kernel file");
			memmove(phys_to_virt(at), k->file, k->file_size);
			k->file = phys_to_virt(at);
			break;
		}
	}
	for (unsigned int s = 0; s < k->nseg; s++) {
		const struct segment_load *g = &k->seg[s];
		memmove(phys_to_virt(g->dest), k->file + g->file_off, g->file_size);
		memset((u8 *)phys_to_virt(g->dest) + g->file_size, 0, g->mem_size - g->file_size);
	}
	return NULL;
}

/* mem_lower / mem_upper in KiB, from the guest's memory map. */
static void mem_sizes(u32 *lower, u32 *upper)
{
	*lower = *upper = 0;
	for (unsigned int i = 0; i < guest_map.n; i++) {
		const struct mem_range *r = &guest_map.r[i];
		if (r->type != MEM_USABLE)
			continue;
		if (r->base == 0)
			*lower = (u32)(MIN(r->size, 640 * KiB) >> 10);
		if (r->base <= 1 * MiB && r->base + r->size > 1 * MiB)
			*upper = (u32)(MIN(r->base + r->size - 1 * MiB, 4 * GiB - 1) >> 10);
	}
}

/* The information block, its tables and strings in one page-aligned area. */
static const char *write_info(unsigned int first, struct placement *p, u64 *info_pa,
			      struct vcpu_reset *reset)
{
	unsigned int nmods = boot_info.nmods - first - 1;
	u64 size = PAGE_SIZE + guest_map.n * sizeof(struct mb1_mmap_entry) +
		   nmods * (sizeof(struct mb1_module) + BOOT_CMDLINE_MAX) + BOOT_CMDLINE_MAX;
	u64 at;

	size = ALIGN_UP(size, PAGE_SIZE);
	if (place_alloc(p, size, PAGE_SIZE, 4 * GiB, &at, "its Multiboot information"))
		return place_why(p, "no free RAM below 4 GiB for its Multiboot information");
	u8 *base = phys_to_virt(at);
	memset(base, 0, size);
	struct mb1_info *mbi = (void *)base;
	u64 cur = at + ALIGN_UP(sizeof(*mbi), 16);
#define PUT_STR(s) ({ u64 _a = cur; strlcpy_l(phys_to_virt(cur), (s), BOOT_CMDLINE_MAX); \
		      cur += strlen(s) + 1; _a; })

	mbi->flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS |
		     MB1_INFO_MMAP | MB1_INFO_LOADER_NAME;
	u32 lower, upper;
	mem_sizes(&lower, &upper);
	mbi->mem_lower = lower;
	mbi->mem_upper = upper;
	mbi->cmdline = (u32)PUT_STR(boot_info.mods[first].cmdline);
	mbi->boot_loader_name = (u32)PUT_STR("lamina " LAMINA_VERSION_STRING);
	cur = ALIGN_UP(cur, 16);
	mbi->mmap_addr = (u32)cur;
	for (unsigned int i = 0; i < guest_map.n; i++, cur += sizeof(struct mb1_mmap_entry)) {
		struct mb1_mmap_entry *e = phys_to_virt(cur);
		e->size = sizeof(*e) - sizeof(e->size);
		e->base = guest_map.r[i].base;
		e->length = guest_map.r[i].size;
		e->type = guest_map.r[i].type;
	}
	mbi->mmap_length = guest_map.n * sizeof(struct mb1_mmap_entry);
	mbi->mods_count = nmods;
	mbi->mods_addr = (u32)cur;
	struct mb1_module *mods = phys_to_virt(cur);
	cur += nmods * sizeof(*mods);
	for (unsigned int i = 0; i < nmods; i++) {
		const struct boot_module *m = &boot_info.mods[first + 1 + i];
		mods[i] = (struct mb1_module){ (u32)m->start, (u32)m->end, 0, 0 };
		mods[i].string = (u32)PUT_STR(m->cmdline);
	}
#undef PUT_STR
	cur = ALIGN_UP(cur, 8);
	write_boot_gdt(cur, reset);
	*info_pa = at;
	return NULL;
}

const char *multiboot_prepare(unsigned int first, struct placement *p,
			      struct guest_entry *out)
{
	const struct boot_module *km = &boot_info.mods[first];
	struct mb_kernel k = { .file = phys_to_virt(km->start), .file_size = km->end - km->start };
	const char *err;
	u64 info = 0;

	k.hdr = find_header(k.file, k.file_size, &k.hdr_off);
	if (k.hdr->flags & 0xffff & ~MB1_KNOWN_REQUIRED)
		return (k.hdr->flags & MB1_FLAG_VIDEO)
			? "it requires a video mode, which lamina's Multiboot loader cannot set"
			: "it requires Multiboot features lamina's loader does not know";
	err = (k.hdr->flags & MB1_FLAG_AOUT) ? parse_aout(&k) : parse_elf(&k);
	if (!err && k.entry >= 4 * GiB)
		err = "its entry point is above 4 GiB, out of reach of a 32-bit entry";
	if (!err)
		err = claim_segments(&k, p);
	if (!err)
		err = clear_modules(&k, first, p);
	if (!err)
		err = load_segments(&k, km, p);
	if (!err)
		err = write_info(first, p, &info, &out->reset);
	if (err)
		return err;
	out->kind = "Multiboot";
	out->reset.rip = k.entry;
	out->eax = MB1_BOOTLOADER_MAGIC;
	out->ebx = info;
	out->esi = 0;
	log_info("Multiboot: kernel loaded (%u segments), entry %#llx, information at %#llx, "
		 "%u modules passed on", k.nseg, (unsigned long long)k.entry,
		 (unsigned long long)info, boot_info.nmods - first - 1);
	return NULL;
}
