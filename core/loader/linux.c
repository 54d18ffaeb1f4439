/* Linux x86 boot protocol, 32-bit entry (Documentation/arch/x86/boot.rst):
 * the protected-mode kernel copied to an aligned address, a zero page
 * (boot_params) with the setup header, command line, initrd, an e820 map
 * in which lamina's home is reserved, and the boot loader's ACPI RSDP. */
#include <core/guest_mem.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/string.h>
#include "loader_int.h"

/* Offsets in the bzImage / zero page. */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define HDR_START 0x1f1
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#define LOADED_HIGH BIT(0)
#define XLF_CAN_BE_LOADED_ABOVE_4G BIT(1)

static u8 rd8(const u8 *p, u32 off) { return p[off]; }
static u16 rd16(const u8 *p, u32 off) { u16 v; memcpy(&v, p + off, 2); return v; }
static u32 rd32(const u8 *p, u32 off) { u32 v; memcpy(&v, p + off, 4); return v; }
static u64 rd64(const u8 *p, u32 off) { u64 v; memcpy(&v, p + off, 8); return v; }
static void wr32(u8 *p, u32 off, u32 v) { memcpy(p + off, &v, 4); }
static void wr64(u8 *p, u32 off, u64 v) { memcpy(p + off, &v, 8); }

bool linux_detect(const struct boot_module *m)
{
	const u8 *k = phys_to_virt(m->start);

	return m->end - m->start > 0x264 && rd16(k, HDR_BOOT_FLAG) == 0xaa55 &&
	       !memcmp(k + HDR_MAGIC, "HdrS", 4);
}

/* xloadflags came with protocol 2.12; before, the field is not theirs. */
static u16 xloadflags(const u8 *hdr)
{
	return rd16(hdr, HDR_VERSION) >= 0x020c ? rd16(hdr, HDR_XLOADFLAGS) : 0;
}

/* The kernel's command line: the module's, less its first word (the file). */
static const char *kernel_args(const struct boot_module *m)
{
	const char *s = m->cmdline;

	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	return s;
}

struct kernel_image {
	const u8 *file;
	u64 file_size, setup_size;
	u64 align, init_size, pref;
	bool relocatable;
};

static const char *parse_header(const struct boot_module *m, struct kernel_image *k)
{
	k->file = phys_to_virt(m->start);
	k->file_size = m->end - m->start;
	if (rd16(k->file, HDR_VERSION) < 0x0206)
		return "its boot protocol is older than 2.06";
	if (!(rd8(k->file, HDR_LOADFLAGS) & LOADED_HIGH))
		return "it is a zImage that must load below 1 MiB";
	u32 sects = rd8(k->file, HDR_SETUP_SECTS);
	k->setup_size = (u64)(sects ? sects : 4) * 512 + 512;
	if (k->setup_size >= k->file_size)
		return "the file is shorter than its setup code";
	k->relocatable = rd8(k->file, HDR_RELOCATABLE);
	k->align = k->relocatable ? rd32(k->file, HDR_KERNEL_ALIGNMENT) : 0;
	if (k->align < PAGE_SIZE || (k->align & (k->align - 1)))
		k->align = 2 * MiB;
	k->pref = rd16(k->file, HDR_VERSION) >= 0x020a ? rd64(k->file, HDR_PREF_ADDRESS)
						       : 0x100000;
	k->init_size = rd16(k->file, HDR_VERSION) >= 0x020a ? rd32(k->file, HDR_INIT_SIZE) : 0;
	k->init_size = MAX(k->init_size, k->file_size - k->setup_size);
	return NULL;
}

/* The boot modules' claims (loader_prepare claims module i as used[i]). */
#define KERNEL_MODULE 0
#define INITRD_MODULE 1

static bool kernel_fits(const struct placement *p, u64 at, u64 size)
{
	/* The 32-bit entry cannot reach past 4 GiB. */
	return at < 4 * GiB && size <= 4 * GiB - at && place_fits_ram(at, size) &&
	       !place_overlaps(p, at, size);
}

/* Where the protected-mode kernel can go. Its decompressor runs at the
 * load address rounded up to kernel_alignment, but never below
 * pref_address (the kernel's LOAD_PHYSICAL_ADDR), and uses init_size
 * bytes from there: so a relocatable kernel goes at pref_address if that
 * is free, else at the highest aligned free place above it; one that is
 * not relocatable at pref_address or nowhere. */
static const char *find_kernel_place(const struct kernel_image *k, struct placement *p, u64 *at)
{
	u64 size = ALIGN_UP(k->init_size, PAGE_SIZE);

	if (!k->relocatable) {
		*at = k->pref;
		return kernel_fits(p, *at, size) ? NULL
			: "it is not relocatable and its load address is not free RAM below 4 GiB";
	}
	if (k->pref >= 4 * GiB)
		return "its preferred load address (the lowest it runs at) is above 4 GiB, "
		       "out of reach of the 32-bit entry";
	*at = ALIGN_UP(k->pref, k->align);
	if (kernel_fits(p, *at, size))
		return NULL;
	if (!place_find(p, size, k->align, 4 * GiB, at) && *at >= k->pref)
		return NULL;
	return "no free RAM between its preferred load address and 4 GiB is large enough for it";
}

/* Claims the kernel's place; rather than fail, it takes the initrd's
 * place, and the initrd moves (place_initrd). */
static const char *place_kernel(const struct kernel_image *k, bool has_initrd,
				struct placement *p, u64 *at)
{
	const char *err = find_kernel_place(k, p, at);

	if (err && has_initrd) {
		place_release_module(p, INITRD_MODULE);
		if ((err = find_kernel_place(k, p, at)))
			place_keep_module(p, INITRD_MODULE);
	}
	if (err)
		return err;
	return place_claim(p, *at, ALIGN_UP(k->init_size, PAGE_SIZE), "the kernel") ? p->why
										     : NULL;
}

static void fill_e820(u8 *bp)
{
	unsigned int n = MIN(guest_map.n, (unsigned int)BP_E820_MAX);

	if (guest_map.n > BP_E820_MAX)
		log_warn("the memory map has %u entries; Linux gets the first %u",
			 guest_map.n, BP_E820_MAX);
	for (unsigned int i = 0; i < n; i++) {
		u8 *e = bp + BP_E820_TABLE + i * 20;
		wr64(e, 0, guest_map.r[i].base);
		wr64(e, 8, guest_map.r[i].size);
		wr32(e, 16, guest_map.r[i].type);
	}
	bp[BP_E820_ENTRIES] = (u8)n;
}

/* The initrd must lie below the kernel's limit and clear of the kernel
 * and of the file the kernel is still to be copied from. */
static const char *place_initrd(const u8 *file, const struct boot_module *initrd,
				struct placement *p, u64 *at, u64 *size)
{
	/* Where the initrd must end: initrd_addr_max is its highest byte. */
	u64 limit = (u64)rd32(file, HDR_INITRD_ADDR_MAX) + 1;

	*at = initrd->start;
	*size = initrd->end - initrd->start;
	if (xloadflags(file) & XLF_CAN_BE_LOADED_ABOVE_4G)
		limit = UINT64_MAX;
	place_release_module(p, INITRD_MODULE);
	if (*at + *size <= limit && !place_overlaps(p, *at, *size)) {
		place_keep_module(p, INITRD_MODULE);
		return NULL;
	}
	if (place_alloc(p, *size, PAGE_SIZE, limit, at, "the initrd"))
		return place_why(p, "no free RAM for the initrd below the kernel's limit");
	memmove(phys_to_virt(*at), phys_to_virt(initrd->start), *size);
	return NULL;
}

/* Protocol 2.14 takes the ACPI RSDP's address (acpi_rsdp_addr). The boot
 * loader's ACPI tag gave lamina a copy, not an address: the copy goes to
 * a page of its own that the guest's map calls ACPI data, so that nothing
 * overwrites it before Linux reads it. */
static const char *pass_rsdp(const u8 *hdr, struct placement *p, u8 *bp)
{
	u64 at;

	if (!boot_info.has_rsdp || rd16(hdr, HDR_VERSION) < 0x020e)
		return NULL;
	if (place_alloc(p, PAGE_SIZE, PAGE_SIZE, 4 * GiB, &at, "the ACPI RSDP"))
		return place_why(p, "no free RAM below 4 GiB for a copy of the ACPI RSDP");
	if (memmap_set(&guest_map, at, PAGE_SIZE, MEM_ACPI)) {
		log_warn("the memory map has no room to keep a copy of the ACPI RSDP for Linux; "
			 "it has to find the RSDP itself");
		return NULL;
	}
	memset(phys_to_virt(at), 0, PAGE_SIZE);
	memcpy(phys_to_virt(at), boot_info.rsdp, sizeof(boot_info.rsdp));
	wr64(bp, BP_ACPI_RSDP, at);
	return NULL;
}

const char *linux_prepare(const struct boot_module *m, const struct boot_module *initrd,
			  struct placement *p, struct guest_entry *out)
{
	struct kernel_image k;
	const char *err = parse_header(m, &k);
	u64 kernel_at, boot_at, rd_at = 0, rd_size = 0;
	static u8 hdr[PAGE_SIZE];

	if (err)
		return err;
	/* The kernel may land on its own file: keep the header first. */
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, k.file, MIN(k.file_size, (u64)sizeof(hdr)));
	/* The kernel may land on its own file, a moved initrd may not: the
	 * initrd moves before the kernel is copied. */
	place_release_module(p, KERNEL_MODULE);
	err = place_kernel(&k, initrd != NULL, p, &kernel_at);
	place_keep_module(p, KERNEL_MODULE);
	if (err || (initrd && (err = place_initrd(hdr, initrd, p, &rd_at, &rd_size))))
		return err;
	memmove(phys_to_virt(kernel_at), k.file + k.setup_size, k.file_size - k.setup_size);
	place_release_module(p, KERNEL_MODULE);

	/* Two pages of boot data: boot_params; the command line with the GDT
	 * at the end of its page. */
	u32 cmdline_max = rd16(hdr, HDR_VERSION) >= 0x0206 ? rd32(hdr, HDR_CMDLINE_SIZE) : 255;
	if (place_alloc(p, 2 * PAGE_SIZE, PAGE_SIZE, 4 * GiB, &boot_at, "its boot parameters"))
		return place_why(p, "no free RAM below 4 GiB for its boot parameters");
	u8 *bp = phys_to_virt(boot_at);
	memset(bp, 0, 2 * PAGE_SIZE);
	u32 hdr_end = 0x202 + rd8(hdr, HDR_JUMP + 1);
	memcpy(bp + HDR_START, hdr + HDR_START, hdr_end - HDR_START);
	bp[HDR_TYPE_OF_LOADER] = 0xff; /* no assigned loader ID */
	wr32(bp, HDR_CODE32_START, (u32)kernel_at);
	wr32(bp, HDR_RAMDISK_IMAGE, (u32)rd_at);
	wr32(bp, HDR_RAMDISK_SIZE, (u32)rd_size);
	wr32(bp, BP_EXT_RAMDISK_IMAGE, (u32)(rd_at >> 32));
	wr32(bp, BP_EXT_RAMDISK_SIZE, (u32)(rd_size >> 32));
	char *cmdline = (char *)bp + PAGE_SIZE;
	const char *args = kernel_args(m);
	u32 room = MIN(cmdline_max, (u32)(PAGE_SIZE - BOOT_GDT_SIZE - 1));
	if (strlen(args) > room)
		log_warn("the kernel command line is longer than %u bytes; truncated", room);
	strlcpy_l(cmdline, args, room + 1);
	wr32(bp, HDR_CMD_LINE_PTR, (u32)(boot_at + PAGE_SIZE));
	if ((err = pass_rsdp(hdr, p, bp)))
		return err;
	fill_e820(bp);
	write_boot_gdt(boot_at + 2 * PAGE_SIZE - BOOT_GDT_SIZE, &out->reset);

	out->kind = "Linux";
	out->reset.rip = kernel_at;
	out->esi = boot_at;
	out->eax = out->ebx = 0;
	log_info("Linux: kernel at %#llx (%llu KiB, needs %llu KiB), boot_params at %#llx, "
		 "initrd at %#llx (%llu KiB), command line '%s'",
		 (unsigned long long)kernel_at,
		 (unsigned long long)((k.file_size - k.setup_size) >> 10),
		 (unsigned long long)(k.init_size >> 10), (unsigned long long)boot_at,
		 (unsigned long long)rd_at, (unsigned long long)(rd_size >> 10), cmdline);
	return NULL;
}
