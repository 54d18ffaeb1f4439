/* core/loader: starting a Linux bzImage or a Multiboot kernel from boot
 * modules, on a stand-in physical memory (a sparse mapping at the host
 * test's DIRECT_MAP_BASE). Each case builds the modules, runs
 * loader_prepare and checks what the guest would find in memory: the
 * kernel where its entry says, its initrd or modules intact, the boot
 * data pointing at them - or a refusal that says why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <core/guest_mem.h>
#include <core/loader.h>
#include <core/log.h>
#include <core/mm.h>
#include <x86/multiboot.h>

#include "host_env.h"
#include "host_phys.h"

#define ARENA_SIZE (8 * GiB)

struct memmap guest_map;
struct boot_info boot_info;
struct home home;

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# lamina: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* A byte pattern that differs per content and per offset. */
static u8 pattern(u32 seed, u64 off)
{
	return (u8)((off * 131 + seed * 17 + (off >> 9)) ^ (off >> 17));
}

static void fill(u64 at, u64 size, u32 seed)
{
	for (u64 i = 0; i < size; i++)
		host_pa(at)[i] = pattern(seed, i);
}

static bool holds(u64 at, u64 size, u32 seed)
{
	for (u64 i = 0; i < size; i++)
		if (host_pa(at)[i] != pattern(seed, i)) {
			printf("# at %#llx + %#llx: %#x, want %#x\n", (unsigned long long)at,
			       (unsigned long long)i, host_pa(at)[i], pattern(seed, i));
			return false;
		}
	return true;
}

static bool zero(u64 at, u64 size)
{
	for (u64 i = 0; i < size; i++)
		if (host_pa(at)[i])
			return false;
	return true;
}

/* Fresh memory and boot data for each case. */
static int case_setup(void **state)
{
	if (host_phys_reset(ARENA_SIZE))
		return -1;
	memset(&boot_info, 0, sizeof(boot_info));
	memset(&guest_map, 0, sizeof(guest_map));
	return 0;
}

/* A range of the firmware's map, and so of the guest's (lamina's home is
 * not in these tests). */
static void map_add(u64 base, u64 size, u32 type)
{
	guest_map.r[guest_map.n++] = (struct mem_range){ base, size, type };
	boot_info.fw_map.r[boot_info.fw_map.n++] = (struct mem_range){ base, size, type };
}

static void module_add(u64 start, u64 size, const char *cmdline)
{
	struct boot_module *m = &boot_info.mods[boot_info.nmods++];

	m->start = start;
	m->end = start + size;
	strcpy(m->cmdline, cmdline);
}

static const char *prepare(struct guest_entry *e)
{
	static char why[256];

	memset(e, 0, sizeof(*e));
	const char *err = loader_prepare(e, why, sizeof(why));
	if (err)
		printf("# refused: %s\n", err);
	return err;
}

static void expect_refused(const char *why_part)
{
	struct guest_entry e;
	const char *err = prepare(&e);

	assert_non_null(err);
	assert_non_null(strstr(err, why_part));
}

/* --- Linux ----------------------------------------------------------- */

#define BZ_SETUP_SECTS 4
#define BZ_SETUP_SIZE ((BZ_SETUP_SECTS + 1) * 512)

struct bz_params {
	u64 pref, init_size;
	u32 initrd_max;
	bool relocatable, above_4g;
	u16 version; /* 0: 2.15 */
};

/* A bzImage at `at` whose protected-mode part is `payload` bytes of
 * pattern 1. */
static u64 make_bzimage(u64 at, u64 payload, const struct bz_params *b)
{
	memset(host_pa(at), 0, BZ_SETUP_SIZE);
	host_pa(at)[0x1f1] = BZ_SETUP_SECTS;
	put16(at + 0x1fe, 0xaa55);
	host_pa(at)[0x201] = 0x66; /* the setup header ends at 0x268 */
	memcpy(host_pa(at + 0x202), "HdrS", 4);
	put16(at + 0x206, b->version ? b->version : 0x020f);
	host_pa(at)[0x211] = 1; /* LOADED_HIGH */
	put32(at + 0x22c, b->initrd_max);
	put32(at + 0x230, 2 * MiB);
	host_pa(at)[0x234] = b->relocatable;
	put16(at + 0x236, b->above_4g ? 2 : 0);
	put32(at + 0x238, 2047);
	put64(at + 0x258, b->pref);
	put32(at + 0x260, (u32)b->init_size);
	fill(at + BZ_SETUP_SIZE, payload, 1);
	return BZ_SETUP_SIZE + payload;
}

static void check_linux_boot_params(const struct guest_entry *e, u64 initrd_size)
{
	u64 bp = e->esi;

	assert_string_equal(e->kind, "Linux");
	assert_true(e->reset.protected_flat);
	assert_int_equal(get32(bp + 0x214), e->reset.rip);
	assert_int_equal(get32(bp + 0x21c), initrd_size);
	assert_int_equal(host_pa(bp)[0x210], 0xff);
	assert_string_equal((char *)host_pa(get32(bp + 0x228)), "console=ttyS0 quiet");
	assert_int_equal(host_pa(bp)[0x1e8], guest_map.n);
	for (unsigned int i = 0; i < guest_map.n; i++) {
		assert_int_equal(get64(bp + 0x2d0 + i * 20), guest_map.r[i].base);
		assert_int_equal(get64(bp + 0x2d0 + i * 20 + 8), guest_map.r[i].size);
		assert_int_equal(get32(bp + 0x2d0 + i * 20 + 16), guest_map.r[i].type);
	}
}

/* The initrd lies above the kernel's limit and must move; the highest
 * free place below the limit is the bzImage file the kernel is still to
 * be copied from. */
static void test_linux_initrd_moves_clear_of_the_bzimage(void **state)
{
	const struct bz_params b = { .pref = 16 * MiB, .init_size = 12 * MiB,
				     .initrd_max = 160 * MiB - 1, .relocatable = true };
	const u64 payload = 8 * MiB, initrd = 8 * MiB;
	struct guest_entry e;

	map_add(1 * MiB, 255 * MiB, MEM_USABLE);
	u64 size = make_bzimage(150 * MiB, payload, &b);
	module_add(150 * MiB, size, "vmlinuz console=ttyS0 quiet");
	fill(200 * MiB, initrd, 2);
	module_add(200 * MiB, initrd, "initrd.img");

	assert_null(prepare(&e));
	check_linux_boot_params(&e, initrd);
	assert_int_equal(e.reset.rip, 16 * MiB);
	assert_true(holds(e.reset.rip, payload, 1));
	u64 rd = get32(e.esi + 0x218);
	assert_true(rd + initrd - 1 <= b.initrd_max);
	assert_true(holds(rd, initrd, 2));
}

/* Before protocol 2.12 there are no xloadflags: whatever lies there does
 * not let the initrd stay above initrd_addr_max. */
static void test_linux_xloadflags_need_protocol_2_12(void **state)
{
	const struct bz_params b = { .pref = 16 * MiB, .init_size = 12 * MiB,
				     .initrd_max = 160 * MiB - 1, .relocatable = true,
				     .above_4g = true, .version = 0x020b };
	const u64 initrd = 4 * MiB;
	struct guest_entry e;

	map_add(1 * MiB, 255 * MiB, MEM_USABLE);
	module_add(64 * MiB, make_bzimage(64 * MiB, 2 * MiB, &b), "vmlinuz console=ttyS0 quiet");
	fill(200 * MiB, initrd, 2);
	module_add(200 * MiB, initrd, "initrd.img");

	assert_null(prepare(&e));
	u64 rd = get32(e.esi + 0x218);
	assert_true(rd + initrd - 1 <= b.initrd_max);
	assert_true(holds(rd, initrd, 2));
}

/* XLF_CAN_BE_LOADED_ABOVE_4G: an initrd that must move may go anywhere,
 * above 4 GiB too (the high half of its address in ext_ramdisk_image). */
static void test_linux_initrd_moves_above_4g(void **state)
{
	const struct bz_params b = { .pref = 16 * MiB, .init_size = 20 * MiB,
				     .initrd_max = 0x7fffffff, .relocatable = true,
				     .above_4g = true };
	const u64 initrd = 4 * MiB;
	struct guest_entry e;

	map_add(1 * MiB, 47 * MiB, MEM_USABLE);
	map_add(4 * GiB, 64 * MiB, MEM_USABLE);
	module_add(2 * MiB, make_bzimage(2 * MiB, 3 * MiB, &b), "vmlinuz console=ttyS0 quiet");
	fill(30 * MiB, initrd, 5); /* in the way of the kernel */
	module_add(30 * MiB, initrd, "initrd.img");

	assert_null(prepare(&e));
	u64 rd = get32(e.esi + 0x218) | (u64)get32(e.esi + 0x0c0) << 32;
	assert_true(rd >= 4 * GiB);
	assert_true(holds(rd, initrd, 5));
}

/* Neither the kernel nor its initrd may be placed on the other. */
static void test_linux_kernel_relocated_around_initrd(void **state)
{
	const struct bz_params b = { .pref = 16 * MiB, .init_size = 20 * MiB,
				     .initrd_max = 0x7fffffff, .relocatable = true };
	const u64 payload = 4 * MiB, initrd = 6 * MiB;
	struct guest_entry e;

	map_add(1 * MiB, 127 * MiB, MEM_USABLE);
	u64 size = make_bzimage(100 * MiB, payload, &b);
	module_add(100 * MiB, size, "vmlinuz console=ttyS0 quiet");
	fill(20 * MiB, initrd, 3); /* inside the preferred [16, 36) MiB */
	module_add(20 * MiB, initrd, "initrd.img");

	assert_null(prepare(&e));
	check_linux_boot_params(&e, initrd);
	assert_int_not_equal(e.reset.rip, 16 * MiB);
	assert_int_equal(e.reset.rip % (2 * MiB), 0);
	assert_true(holds(e.reset.rip, payload, 1));
	u64 rd = get32(e.esi + 0x218);
	assert_true(holds(rd, initrd, 3));
	assert_true(rd + initrd <= e.reset.rip || e.reset.rip + b.init_size <= rd);
}

/* An RSDP from the boot loader's ACPI tag: a kernel of protocol 2.14 or
 * later finds its address in acpi_rsdp_addr, at a copy in memory its
 * e820 map calls ACPI data; an older kernel gets nothing there. */
static void test_linux_acpi_rsdp_address(void **state)
{
	struct bz_params b = { .pref = 16 * MiB, .init_size = 12 * MiB,
			       .initrd_max = 0x7fffffff, .relocatable = true };
	struct guest_entry e;

	memcpy(boot_info.rsdp, "RSD PTR \x42LAMINA\x02", 16);
	memset(boot_info.rsdp + 16, 0x5a, sizeof(boot_info.rsdp) - 16);
	boot_info.has_rsdp = true;
	map_add(1 * MiB, 255 * MiB, MEM_USABLE);
	module_add(64 * MiB, make_bzimage(64 * MiB, 1 * MiB, &b), "vmlinuz console=ttyS0 quiet");

	assert_null(prepare(&e));
	check_linux_boot_params(&e, 0);
	u64 rsdp = get64(e.esi + 0x070);
	assert_int_not_equal(rsdp, 0);
	assert_memory_equal(host_pa(rsdp), boot_info.rsdp, sizeof(boot_info.rsdp));
	bool in_acpi_data = false;
	for (unsigned int i = 0; i < guest_map.n; i++) {
		const struct mem_range *r = &guest_map.r[i];
		in_acpi_data |= r->type == MEM_ACPI && r->base <= rsdp &&
				rsdp + sizeof(boot_info.rsdp) <= r->base + r->size;
	}
	assert_true(in_acpi_data);

	case_setup(state);
	memcpy(boot_info.rsdp, "RSD PTR ", 8);
	boot_info.has_rsdp = true;
	map_add(1 * MiB, 255 * MiB, MEM_USABLE);
	b.version = 0x020d;
	module_add(64 * MiB, make_bzimage(64 * MiB, 1 * MiB, &b), "vmlinuz console=ttyS0 quiet");
	assert_null(prepare(&e));
	assert_int_equal(get64(e.esi + 0x070), 0);
	assert_int_equal(guest_map.n, 1);
}

/* The 32-bit entry cannot reach a kernel above 4 GiB, even if it prefers
 * to be there; and a relocatable kernel never runs below its preferred
 * address, so it cannot be started at all. */
static void test_linux_preferred_address_above_4g(void **state)
{
	struct bz_params b = { .pref = 5 * GiB, .init_size = 8 * MiB,
			       .initrd_max = 0x7fffffff, .relocatable = false };

	map_add(1 * MiB, 1 * GiB, MEM_USABLE);
	map_add(4 * GiB, 2 * GiB, MEM_USABLE);
	module_add(64 * MiB, make_bzimage(64 * MiB, 1 * MiB, &b), "vmlinuz console=ttyS0 quiet");
	expect_refused("not relocatable and its load address is not free RAM below 4 GiB");

	b.relocatable = true;
	make_bzimage(64 * MiB, 1 * MiB, &b);
	expect_refused("its preferred load address (the lowest it runs at) is above 4 GiB");
}

/* The decompressor runs at pref_address when loaded below it and uses
 * init_size bytes from there: the kernel goes at or above it, and the
 * initrd, in the way of every such place, moves. */
static void test_linux_kernel_not_below_preferred_address(void **state)
{
	const struct bz_params b = { .pref = 16 * MiB, .init_size = 20 * MiB,
				     .initrd_max = 0x7fffffff, .relocatable = true };
	const u64 payload = 3 * MiB, initrd = 4 * MiB;
	struct guest_entry e;

	map_add(0, 640 * KiB, MEM_USABLE);
	map_add(1 * MiB, 47 * MiB, MEM_USABLE);
	module_add(2 * MiB, make_bzimage(2 * MiB, payload, &b), "vmlinuz console=ttyS0 quiet");
	fill(30 * MiB, initrd, 4);
	module_add(30 * MiB, initrd, "initrd.img");

	assert_null(prepare(&e));
	check_linux_boot_params(&e, initrd);
	u64 kernel = e.reset.rip, rd = get32(e.esi + 0x218);
	assert_true(kernel >= b.pref && kernel % (2 * MiB) == 0);
	assert_true(kernel + b.init_size <= 48 * MiB);
	assert_true(holds(kernel, payload, 1));
	assert_true(holds(rd, initrd, 4));
	assert_true(rd + initrd <= kernel || kernel + b.init_size <= rd);
	assert_true(e.esi + 2 * PAGE_SIZE <= kernel || kernel + b.init_size <= e.esi);
}

static void test_not_a_kernel(void **state)
{

	map_add(1 * MiB, 63 * MiB, MEM_USABLE);
	fill(8 * MiB, 64 * KiB, 9);
	module_add(8 * MiB, 64 * KiB, "notes.txt");
	expect_refused("module 1 'notes.txt' (65536 bytes): it is neither a Linux bzImage");
}

/* --- Multiboot ------------------------------------------------------- */

struct elf_seg {
	u64 paddr, filesz, memsz;
	u32 seed;
};

#define MB_HEADER_OFF 0x1000
#define LOADER_TEST_MAX_SEGMENTS 16 /* core/loader's LOADER_MAX_SEGMENTS */
#define ELF_DATA_OFF 0x2000

static void put_mb1_header(u64 at, u32 flags)
{
	put32(at + MB_HEADER_OFF, MB1_HEADER_MAGIC);
	put32(at + MB_HEADER_OFF + 4, flags);
	put32(at + MB_HEADER_OFF + 8, -(MB1_HEADER_MAGIC + flags));
}

/* An ELF32 or ELF64 Multiboot kernel at `at`, vaddr == paddr; returns
 * its size. */
static u64 make_elf(u64 at, bool is64, u64 entry, const struct elf_seg *s, unsigned int n)
{
	u64 ph = is64 ? 64 : 52, phsize = is64 ? 56 : 32, off = ELF_DATA_OFF;

	memset(host_pa(at), 0, ELF_DATA_OFF);
	memcpy(host_pa(at), "\177ELF", 4);
	host_pa(at)[4] = is64 ? 2 : 1;
	host_pa(at)[5] = 1;
	host_pa(at)[6] = 1;
	put16(at + 16, 2);
	put16(at + 18, is64 ? 62 : 3);
	if (is64) {
		put64(at + 24, entry);
		put64(at + 32, ph);
		put16(at + 54, (u16)phsize);
		put16(at + 56, (u16)n);
	} else {
		put32(at + 24, (u32)entry);
		put32(at + 28, (u32)ph);
		put16(at + 42, (u16)phsize);
		put16(at + 44, (u16)n);
	}
	for (unsigned int i = 0; i < n; i++, ph += phsize) {
		u64 h = at + ph;
		put32(h, 1);
		if (is64) {
			put64(h + 8, off);
			put64(h + 16, s[i].paddr);
			put64(h + 24, s[i].paddr);
			put64(h + 32, s[i].filesz);
			put64(h + 40, s[i].memsz);
		} else {
			put32(h + 4, (u32)off);
			put32(h + 8, (u32)s[i].paddr);
			put32(h + 12, (u32)s[i].paddr);
			put32(h + 16, (u32)s[i].filesz);
			put32(h + 20, (u32)s[i].memsz);
		}
		fill(at + off, s[i].filesz, s[i].seed);
		off += s[i].filesz;
	}
	put_mb1_header(at, 0);
	return off;
}

static void check_segments(const struct elf_seg *s, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		assert_true(holds(s[i].paddr, s[i].filesz, s[i].seed));
		assert_true(zero(s[i].paddr + s[i].filesz, s[i].memsz - s[i].filesz));
	}
}

/* A module in the kernel's way must move - and not into memory another
 * segment of the kernel is about to fill. */
static void test_multiboot_module_moves_clear_of_every_segment(void **state)
{
	const struct elf_seg seg[] = {
		{ 16 * MiB, 1 * MiB, 4 * MiB, 4 },
		{ 60 * MiB, 64 * KiB, 4 * MiB, 5 }, /* up to the top of RAM */
	};
	struct guest_entry e;

	map_add(0, 640 * KiB, MEM_USABLE);
	map_add(1 * MiB, 63 * MiB, MEM_USABLE);
	u64 size = make_elf(32 * MiB, false, 16 * MiB + 0x40, seg, 2);
	module_add(32 * MiB, size, "kernel.elf verbose=1");
	fill(17 * MiB, 512 * KiB, 6);
	module_add(17 * MiB, 512 * KiB, "data.bin key=value");
	fill(40 * MiB, 4 * KiB, 7);
	module_add(40 * MiB, 4 * KiB, "other.bin");

	assert_null(prepare(&e));
	assert_string_equal(e.kind, "Multiboot");
	assert_int_equal(e.eax, MB1_BOOTLOADER_MAGIC);
	assert_int_equal(e.reset.rip, 16 * MiB + 0x40);
	check_segments(seg, 2);

	const struct mb1_info *mbi = (const void *)host_pa(e.ebx);
	assert_true(mbi->flags & MB1_INFO_MEMORY);
	assert_int_equal(mbi->mem_lower, 640);
	assert_int_equal(mbi->mem_upper, 63 * 1024);
	assert_string_equal((char *)host_pa(mbi->cmdline), "kernel.elf verbose=1");
	assert_int_equal(mbi->mods_count, 2);
	const struct mb1_module *mods = (const void *)host_pa(mbi->mods_addr);
	assert_int_equal(mods[0].mod_end - mods[0].mod_start, 512 * KiB);
	assert_true(holds(mods[0].mod_start, 512 * KiB, 6));
	assert_string_equal((char *)host_pa(mods[0].string), "data.bin key=value");
	assert_int_equal(mods[1].mod_start, 40 * MiB);
	assert_true(holds(mods[1].mod_start, 4 * KiB, 7));
	for (unsigned int i = 0; i < 2; i++)
		for (unsigned int s = 0; s < 2; s++)
			assert_true(mods[i].mod_end <= seg[s].paddr ||
				    seg[s].paddr + seg[s].memsz <= mods[i].mod_start);
}

/* As many modules and segments as lamina takes, every module but the
 * kernel in a segment's way: each moved module gets a place of its own,
 * clear of the segments, the other modules and the first MiB. */
static void test_multiboot_most_modules_and_segments(void **state)
{
	struct elf_seg seg[LOADER_TEST_MAX_SEGMENTS];
	struct guest_entry e;

	map_add(0, 640 * KiB, MEM_USABLE);
	map_add(1 * MiB, 255 * MiB, MEM_USABLE);
	for (unsigned int s = 0; s < ARRAY_SIZE(seg); s++)
		seg[s] = (struct elf_seg){ 16 * MiB + s * 2 * MiB, 4 * KiB, 1 * MiB, 20 + s };
	module_add(128 * MiB, make_elf(128 * MiB, false, 16 * MiB, seg, ARRAY_SIZE(seg)), "k.elf");
	for (unsigned int i = 1; i < BOOT_MAX_MODULES; i++) {
		fill(seg[i].paddr + 512 * KiB, 64 * KiB, 40 + i);
		module_add(seg[i].paddr + 512 * KiB, 64 * KiB, "m.bin");
	}

	assert_null(prepare(&e));
	check_segments(seg, ARRAY_SIZE(seg));
	const struct mb1_info *mbi = (const void *)host_pa(e.ebx);
	const struct mb1_module *mods = (const void *)host_pa(mbi->mods_addr);
	assert_int_equal(mbi->mods_count, BOOT_MAX_MODULES - 1);
	for (unsigned int i = 0; i < mbi->mods_count; i++) {
		assert_true(mods[i].mod_start >= 1 * MiB);
		assert_true(holds(mods[i].mod_start, 64 * KiB, 41 + i));
		for (unsigned int j = 0; j < i; j++)
			assert_true(mods[i].mod_start >= mods[j].mod_end ||
				    mods[j].mod_start >= mods[i].mod_end);
		for (unsigned int s = 0; s < ARRAY_SIZE(seg); s++)
			assert_true(mods[i].mod_end <= seg[s].paddr ||
				    seg[s].paddr + seg[s].memsz <= mods[i].mod_start);
	}
}

/* A segment that lands on the kernel file itself: the file is staged
 * elsewhere first. */
static void test_multiboot_segment_over_its_own_file(void **state)
{
	const struct elf_seg seg[] = { { 8 * MiB, 2 * MiB, 3 * MiB, 8 } };
	struct guest_entry e;

	map_add(1 * MiB, 31 * MiB, MEM_USABLE);
	module_add(9 * MiB, make_elf(9 * MiB, true, 8 * MiB, seg, 1), "k64.elf");
	assert_null(prepare(&e));
	check_segments(seg, 1);
}

/* Module addresses are 32 bits in the Multiboot information: one loaded
 * above 4 GiB is moved below. */
static void test_multiboot_module_above_4g_moves_below(void **state)
{
	const struct elf_seg seg[] = { { 8 * MiB, 64 * KiB, 64 * KiB, 12 } };
	struct guest_entry e;

	map_add(1 * MiB, 31 * MiB, MEM_USABLE);
	map_add(4 * GiB, 1 * GiB, MEM_USABLE);
	module_add(16 * MiB, make_elf(16 * MiB, false, 8 * MiB, seg, 1), "k.elf");
	fill(4 * GiB + 512 * MiB, 128 * KiB, 13);
	module_add(4 * GiB + 512 * MiB, 128 * KiB, "high.bin");
	assert_null(prepare(&e));
	const struct mb1_info *mbi = (const void *)host_pa(e.ebx);
	const struct mb1_module *mods = (const void *)host_pa(mbi->mods_addr);
	assert_int_equal(mbi->mods_count, 1);
	assert_true(mods[0].mod_end <= 32 * MiB);
	assert_true(holds(mods[0].mod_start, 128 * KiB, 13));
}

/* A 64-bit ELF kernel out of reach of the 32-bit entry: its entry point,
 * or a segment, above 4 GiB. */
static void test_multiboot_above_4g_refused(void **state)
{
	const struct elf_seg low[] = { { 8 * MiB, 64 * KiB, 64 * KiB, 10 } };
	const struct elf_seg high[] = { { 5 * GiB, 64 * KiB, 64 * KiB, 11 } };

	map_add(1 * MiB, 31 * MiB, MEM_USABLE);
	map_add(4 * GiB, 2 * GiB, MEM_USABLE);
	module_add(16 * MiB, make_elf(16 * MiB, true, 5 * GiB, low, 1), "k64.elf");
	expect_refused("its entry point is above 4 GiB");
	make_elf(16 * MiB, true, 8 * MiB, high, 1);
	expect_refused("it wants to load above 4 GiB");
}

/* Only magic, flags and checksum must lie in the first 8 KiB: a header in
 * its last 12 bytes is found. The a.out fields, when the flags ask for
 * them, must be in the file. */
static void test_multiboot_header_at_the_end_of_8k(void **state)
{
	const struct elf_seg seg[] = { { 8 * MiB, 64 * KiB, 64 * KiB, 14 } };
	const u64 at = 16 * MiB, off = MB1_SEARCH_BYTES - 12;
	struct guest_entry e;

	map_add(1 * MiB, 31 * MiB, MEM_USABLE);
	module_add(at, make_elf(at, false, 8 * MiB, seg, 1), "k.elf");
	memset(host_pa(at + MB_HEADER_OFF), 0, 12);
	put32(at + off, MB1_HEADER_MAGIC);
	put32(at + off + 8, -MB1_HEADER_MAGIC);
	assert_null(prepare(&e));
	check_segments(seg, 1);

	case_setup(state);
	map_add(1 * MiB, 31 * MiB, MEM_USABLE);
	put32(at + off, MB1_HEADER_MAGIC);
	put32(at + off + 4, 1u << 16);
	put32(at + off + 8, -(MB1_HEADER_MAGIC + (1u << 16)));
	module_add(at, MB1_SEARCH_BYTES, "aout.bin");
	expect_refused("its Multiboot header's a.out fields run past the end of the file");
}

/* An ELF file that is no x86 executable is refused, saying why. */
static void test_multiboot_elf_identity(void **state)
{
	const struct elf_seg seg[] = { { 8 * MiB, 64 * KiB, 64 * KiB, 15 } };
	const u64 at = 16 * MiB;
	static const struct {
		unsigned int off, size;
		u16 value;
		const char *why;
	} bad[] = {
		{ 4, 1, 3, "its ELF class is neither 32-bit nor 64-bit" },
		{ 4, 1, 0, "its ELF class is neither 32-bit nor 64-bit" },
		{ 5, 1, 2, "it is not a little-endian ELF file" },
		{ 18, 2, 40, "it is an ELF file for another machine than x86 (e_machine)" },
		{ 16, 2, 3, "it is not an ELF executable (e_type is not ET_EXEC)" },
	};

	map_add(1 * MiB, 31 * MiB, MEM_USABLE);
	module_add(at, make_elf(at, false, 8 * MiB, seg, 1), "k.elf");
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		make_elf(at, i % 2, 8 * MiB, seg, 1);
		memcpy(host_pa(at + bad[i].off), &bad[i].value, bad[i].size);
		expect_refused(bad[i].why);
	}
}

/* The a.out kludge with a load range that ends before it starts. */
static void test_multiboot_aout_backwards_range(void **state)
{
	const u64 at = 16 * MiB;
	const u32 flags = 1u << 16;
	struct guest_entry e;

	map_add(1 * MiB, 31 * MiB, MEM_USABLE);
	memset(host_pa(at), 0, 2 * MB_HEADER_OFF);
	put_mb1_header(at, flags);
	put32(at + MB_HEADER_OFF + 12, 2 * MiB + MB_HEADER_OFF); /* header_addr */
	put32(at + MB_HEADER_OFF + 16, 2 * MiB);                 /* load_addr */
	put32(at + MB_HEADER_OFF + 20, 1 * MiB);                 /* load_end_addr */
	put32(at + MB_HEADER_OFF + 28, 2 * MiB);                 /* entry_addr */
	module_add(at, 2 * MB_HEADER_OFF, "aout.bin");
	expect_refused("its Multiboot load range ends before it starts");

	put32(at + MB_HEADER_OFF + 20, 0);       /* load the whole file */
	put32(at + MB_HEADER_OFF + 24, 1 * MiB); /* bss_end_addr before load_addr */
	expect_refused("its Multiboot BSS ends before its load address");

	put32(at + MB_HEADER_OFF + 24, 3 * MiB);
	assert_null(prepare(&e));
	assert_int_equal(e.reset.rip, 2 * MiB);
	assert_int_equal(get32(2 * MiB + MB_HEADER_OFF), MB1_HEADER_MAGIC);
	assert_true(zero(2 * MiB + 2 * MB_HEADER_OFF, 1 * MiB - 2 * MB_HEADER_OFF));
}

/* --- Modules as the boot loader gave them ---------------------------- */

/* A module that ends before it starts, more modules than lamina holds, or
 * a module table lamina could not read: the guest does not start, and the
 * message names the module or says why. */
static void test_malformed_or_missing_modules_refused(void **state)
{
	map_add(1 * MiB, 63 * MiB, MEM_USABLE);
	module_add(8 * MiB, 64 * KiB, "kernel");
	module_add(16 * MiB, 4 * KiB, "initrd.img");
	boot_info.mods[1].end = boot_info.mods[1].start - 1;
	expect_refused("cannot start the guest: module 2 'initrd.img' [0x1000000-0xffffff) ends "
		       "before it starts");

	boot_info.mods[1].end = boot_info.mods[1].start;
	boot_info.mods_dropped = 3;
	expect_refused("cannot start the guest: the boot loader gave 5 modules and lamina holds "
		       "16; module 17 and later would be missing");

	boot_info.mods_unusable = "the boot loader's table of modules runs past 4 GiB";
	boot_info.nmods = 0; /* none read */
	expect_refused("cannot start the guest: the boot loader's table of modules runs past");
}

static void move_module(unsigned int i, u64 start, u64 end)
{
	boot_info.mods[i].start = start;
	boot_info.mods[i].end = end;
}

/* A module whose content may not be what the boot loader put there, or
 * that lies outside RAM: the guest does not start, the module is named. */
static void test_module_ranges_checked(void **state)
{
	map_add(0, 640 * KiB, MEM_USABLE);
	map_add(1 * MiB, 63 * MiB, MEM_USABLE);
	map_add(64 * MiB, 1 * MiB, MEM_RESERVED);
	boot_info.image_base = 2 * MiB;
	boot_info.image_end = 3 * MiB;
	module_add(8 * MiB, 64 * KiB, "kernel");
	module_add(32 * MiB, 4 * KiB, "initrd.img");

	move_module(1, 8 * MiB + 60 * KiB, 8 * MiB + 64 * KiB);
	expect_refused("cannot start the guest: module 2 'initrd.img' [0x80f000-0x810000) "
		       "overlaps module 1 'kernel'");
	move_module(1, 3 * MiB - 4 * KiB, 3 * MiB);
	expect_refused("module 2 'initrd.img' [0x2ff000-0x300000) overlaps lamina's image as the "
		       "boot loader loaded it");
	move_module(1, 64 * MiB - 4 * KiB, 64 * MiB + 4 * KiB);
	expect_refused("module 2 'initrd.img' [0x3fff000-0x4001000) is not wholly in usable RAM "
		       "of the firmware's memory map");
	move_module(1, 700 * KiB, 704 * KiB);
	expect_refused("module 2 'initrd.img' [0xaf000-0xb0000) is not wholly in usable RAM");
}

/* Empty modules (an empty file) are legal: an empty initrd is none, an
 * empty Multiboot module is passed on even where a segment goes. */
static void test_empty_modules_passed_on(void **state)
{
	const struct bz_params b = { .pref = 16 * MiB, .init_size = 12 * MiB,
				     .initrd_max = 0x7fffffff, .relocatable = true };
	const struct elf_seg seg[] = { { 8 * MiB, 64 * KiB, 1 * MiB, 16 } };
	struct guest_entry e;

	map_add(1 * MiB, 63 * MiB, MEM_USABLE);
	module_add(40 * MiB, make_bzimage(40 * MiB, 1 * MiB, &b), "vmlinuz console=ttyS0 quiet");
	module_add(17 * MiB, 0, "empty.img"); /* inside the kernel's place */
	assert_null(prepare(&e));
	check_linux_boot_params(&e, 0);

	case_setup(state);
	map_add(1 * MiB, 63 * MiB, MEM_USABLE);
	module_add(16 * MiB, make_elf(16 * MiB, false, 8 * MiB, seg, 1), "k.elf");
	module_add(8 * MiB + 4 * KiB, 0, "empty.bin");
	assert_null(prepare(&e));
	check_segments(seg, 1);
	const struct mb1_info *mbi = (const void *)host_pa(e.ebx);
	const struct mb1_module *mods = (const void *)host_pa(mbi->mods_addr);
	assert_int_equal(mbi->mods_count, 1);
	assert_int_equal(mods[0].mod_start, mods[0].mod_end);
	assert_string_equal((char *)host_pa(mods[0].string), "empty.bin");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_linux_initrd_moves_clear_of_the_bzimage, case_setup),
		cmocka_unit_test_setup(test_linux_xloadflags_need_protocol_2_12, case_setup),
		cmocka_unit_test_setup(test_linux_initrd_moves_above_4g, case_setup),
		cmocka_unit_test_setup(test_linux_kernel_relocated_around_initrd, case_setup),
		cmocka_unit_test_setup(test_linux_acpi_rsdp_address, case_setup),
		cmocka_unit_test_setup(test_linux_preferred_address_above_4g, case_setup),
		cmocka_unit_test_setup(test_linux_kernel_not_below_preferred_address, case_setup),
		cmocka_unit_test_setup(test_not_a_kernel, case_setup),
		cmocka_unit_test_setup(test_multiboot_module_moves_clear_of_every_segment,
				       case_setup),
		cmocka_unit_test_setup(test_multiboot_most_modules_and_segments, case_setup),
		cmocka_unit_test_setup(test_multiboot_segment_over_its_own_file, case_setup),
		cmocka_unit_test_setup(test_multiboot_module_above_4g_moves_below, case_setup),
		cmocka_unit_test_setup(test_multiboot_above_4g_refused, case_setup),
		cmocka_unit_test_setup(test_multiboot_header_at_the_end_of_8k, case_setup),
		cmocka_unit_test_setup(test_multiboot_elf_identity, case_setup),
		cmocka_unit_test_setup(test_multiboot_aout_backwards_range, case_setup),
		cmocka_unit_test_setup(test_malformed_or_missing_modules_refused, case_setup),
		cmocka_unit_test_setup(test_module_ranges_checked, case_setup),
		cmocka_unit_test_setup(test_empty_modules_passed_on, case_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
