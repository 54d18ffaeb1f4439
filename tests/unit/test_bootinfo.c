/* arch/x86/boot/multiboot.c: reading what a Multiboot 1 or 2 loader gives
 * lamina, from information blocks built on a stand-in physical memory of
 * 4 GiB (what lamina's early identity map covers): modules keep their
 * positions whatever they look like, and the rest is lamina's to judge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <core/bootinfo.h>
#include <x86/multiboot.h>

#include "host_env.h"
#include "host_phys.h"

#define PHYS_SIZE (4 * GiB)
#define INFO_AT 0x10000ull
#define DATA_AT 0x20000ull /* strings and tables the information points at */

static struct boot_info bi;
static u64 data_next;

static int case_setup(void **state)
{
	if (host_phys_reset(PHYS_SIZE))
		return -1;
	memset(&bi, 0, sizeof(bi));
	data_next = DATA_AT;
	return 0;
}

/* Room for size bytes of the loader's data; returns its address. */
static u64 data(u64 size)
{
	u64 at = data_next;

	data_next = ALIGN_UP(at + size, 8); /* mmap entries (24 bytes) lie back to back */
	return at;
}

static u64 str(const char *s)
{
	u64 at = data(strlen(s) + 1);

	strcpy((char *)host_pa(at), s);
	return at;
}

/* --- Multiboot 1 ------------------------------------------------------ */

static struct mb1_info *mb1(void)
{
	return (struct mb1_info *)host_pa(INFO_AT);
}

static void mb1_mmap_entry(struct mb1_info *mbi, u64 base, u64 length, u32 type)
{
	if (!(mbi->flags & MB1_INFO_MMAP)) {
		mbi->flags |= MB1_INFO_MMAP;
		mbi->mmap_addr = (u32)data_next;
	}
	u64 at = data(sizeof(struct mb1_mmap_entry));
	*(struct mb1_mmap_entry *)host_pa(at) =
		(struct mb1_mmap_entry){ sizeof(struct mb1_mmap_entry) - 4, base, length, type };
	mbi->mmap_length += sizeof(struct mb1_mmap_entry);
}

/* An information block with a plain memory map and no modules yet. */
static struct mb1_info *mb1_basic(void)
{
	struct mb1_info *mbi = mb1();

	memset(mbi, 0, sizeof(*mbi));
	mbi->flags = MB1_INFO_CMDLINE;
	mbi->cmdline = (u32)str("lamina.elf mem=32M");
	mb1_mmap_entry(mbi, 0, 640 * KiB, MEM_USABLE);
	mb1_mmap_entry(mbi, 1 * MiB, 1 * GiB, MEM_USABLE);
	return mbi;
}

struct mod {
	u32 start, end;
	const char *name;
};

static void mb1_modules(struct mb1_info *mbi, const struct mod *m, unsigned int n)
{
	struct mb1_module *t = (struct mb1_module *)host_pa(data(n * sizeof(*t)));

	mbi->flags |= MB1_INFO_MODS;
	mbi->mods_count = n;
	mbi->mods_addr = (u32)((u8 *)t - host_pa(0));
	for (unsigned int i = 0; i < n; i++)
		t[i] = (struct mb1_module){ m[i].start, m[i].end, (u32)str(m[i].name), 0 };
}

/* --- Multiboot 2 ------------------------------------------------------ */

static u64 mb2_end_at;

static void mb2_begin(void)
{
	mb2_end_at = INFO_AT + 8;
}

static void *mb2_tag(u32 type, u32 size)
{
	struct mb2_tag *t = (struct mb2_tag *)host_pa(mb2_end_at);

	t->type = type;
	t->size = size;
	mb2_end_at = ALIGN_UP(mb2_end_at + size, 8);
	return t;
}

static void mb2_module(const struct mod *m)
{
	u32 size = sizeof(struct mb2_tag_module) + strlen(m->name) + 1;
	struct mb2_tag_module *t = mb2_tag(MB2_TAG_MODULE, size);

	t->mod_start = m->start;
	t->mod_end = m->end;
	strcpy(t->string, m->name);
}

static void mb2_basic_mmap(void)
{
	const struct mb2_mmap_entry e[] = { { 0, 640 * KiB, MEM_USABLE, 0 },
					    { 1 * MiB, 1 * GiB, MEM_USABLE, 0 } };
	struct mb2_tag_mmap *t = mb2_tag(MB2_TAG_MMAP, sizeof(*t) + sizeof(e));

	t->entry_size = sizeof(e[0]);
	memcpy(t + 1, e, sizeof(e));
}

static void mb2_finish(void)
{
	mb2_tag(MB2_TAG_END, 8);
	*(u32 *)host_pa(INFO_AT) = (u32)(mb2_end_at - INFO_AT);
}

/* A whole information block: a plain memory map and these modules. */
static void mb2_with_modules(const struct mod *m, unsigned int n)
{
	mb2_begin();
	mb2_basic_mmap();
	for (unsigned int i = 0; i < n; i++)
		mb2_module(&m[i]);
	mb2_finish();
}

/* --- modules ---------------------------------------------------------- */

static const struct mod odd_mods[] = {
	{ 16 * MiB, 17 * MiB, "kernel" },
	{ 20 * MiB, 20 * MiB, "empty.img" },   /* an empty file: legal */
	{ 22 * MiB, 21 * MiB, "backwards" },   /* malformed, but in its place */
	{ 24 * MiB, 25 * MiB, "last" },
};

static void expect_odd_mods(void)
{
	assert_int_equal(bi.fw_map.n, 2);
	assert_int_equal(bi.nmods, ARRAY_SIZE(odd_mods));
	assert_int_equal(bi.mods_dropped, 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(odd_mods); i++) {
		assert_int_equal(bi.mods[i].start, odd_mods[i].start);
		assert_int_equal(bi.mods[i].end, odd_mods[i].end);
		assert_string_equal(bi.mods[i].cmdline, odd_mods[i].name);
	}
	assert_int_equal(boot_module_size(&bi.mods[1]), 0);
	assert_int_equal(boot_module_size(&bi.mods[2]), 0);
}

/* Empty and backwards modules keep their places: module 2 never becomes
 * module 1. */
static void test_mb1_modules_keep_their_positions(void **state)
{
	mb1_modules(mb1_basic(), odd_mods, ARRAY_SIZE(odd_mods));
	assert_null(bootinfo_parse(MB1_BOOTLOADER_MAGIC, INFO_AT, &bi));
	expect_odd_mods();
}

static void test_mb2_modules_keep_their_positions(void **state)
{
	mb2_with_modules(odd_mods, ARRAY_SIZE(odd_mods));
	assert_null(bootinfo_parse(MB2_BOOTLOADER_MAGIC, INFO_AT, &bi));
	expect_odd_mods();
}

/* More modules than lamina holds: the first are kept, the rest counted. */
static void test_too_many_modules_counted(void **state)
{
	struct mod m[BOOT_MAX_MODULES + 2];

	for (unsigned int i = 0; i < ARRAY_SIZE(m); i++)
		m[i] = (struct mod){ 16 * MiB + i * MiB, 16 * MiB + i * MiB + 4096, "m" };
	mb1_modules(mb1_basic(), m, ARRAY_SIZE(m));
	assert_null(bootinfo_parse(MB1_BOOTLOADER_MAGIC, INFO_AT, &bi));
	assert_int_equal(bi.nmods, BOOT_MAX_MODULES);
	assert_int_equal(bi.mods_dropped, 2);
	assert_int_equal(bi.mods[BOOT_MAX_MODULES - 1].start, m[BOOT_MAX_MODULES - 1].start);

	case_setup(state);
	mb2_with_modules(m, ARRAY_SIZE(m));
	assert_null(bootinfo_parse(MB2_BOOTLOADER_MAGIC, INFO_AT, &bi));
	assert_int_equal(bi.nmods, BOOT_MAX_MODULES);
	assert_int_equal(bi.mods_dropped, 2);
}

/* --- the memory map --------------------------------------------------- */

/* Hundreds of entries that merge into a few ranges, and a reserved one
 * the firmware lists last over RAM it listed first: it is not lost. */
static void test_long_map_read_whole(void **state)
{
	struct mb1_info *mbi = mb1();

	memset(mbi, 0, sizeof(*mbi));
	for (unsigned int i = 0; i < 3 * MEMMAP_MAX; i++)
		mb1_mmap_entry(mbi, 1 * MiB + i * 64 * KiB, 64 * KiB, MEM_USABLE);
	mb1_mmap_entry(mbi, 8 * MiB, 4 * KiB, MEM_RESERVED);
	assert_null(bootinfo_parse(MB1_BOOTLOADER_MAGIC, INFO_AT, &bi));
	assert_int_equal(bi.fw_map.n, 3);
	assert_false(memmap_is_usable(&bi.fw_map, 8 * MiB, 4 * KiB));
	assert_true(memmap_is_usable(&bi.fw_map, 8 * MiB + 4 * KiB, 16 * MiB));
	assert_int_equal(bi.fw_map_unread + bi.fw_map_left_out, 0);
}

/* --- addresses at the end of what lamina can read ------------------- */

#define TOP (4 * GiB) /* the end of the early identity map, and of PHYS_SIZE */

static void expect_error(u32 magic, u64 info, const char *why_part)
{
	const char *err = bootinfo_parse(magic, info, &bi);

	assert_non_null(err);
	printf("# %s\n", err);
	assert_non_null(strstr(err, why_part));
}

/* Strings that run to 4 GiB without an end: read up to there, no further. */
static void test_strings_end_at_4g(void **state)
{
	struct mb1_info *mbi = mb1_basic();

	memcpy(host_pa(TOP - 5), "abcde", 5);
	mbi->cmdline = (u32)(TOP - 5);
	mbi->flags |= MB1_INFO_LOADER_NAME;
	mbi->boot_loader_name = (u32)(TOP - 3);
	const struct mod m = { 16 * MiB, 17 * MiB, "k" };
	mb1_modules(mbi, &m, 1);
	((struct mb1_module *)host_pa(mbi->mods_addr))->string = (u32)(TOP - 1);
	assert_null(bootinfo_parse(MB1_BOOTLOADER_MAGIC, INFO_AT, &bi));
	assert_string_equal(bi.cmdline, "abcde");
	assert_string_equal(bi.loader, "cde");
	assert_string_equal(bi.mods[0].cmdline, "e");
}

/* A module table past 4 GiB: lamina goes on, but cannot start a guest. */
static void test_module_table_past_4g(void **state)
{
	struct mb1_info *mbi = mb1_basic();

	mbi->flags |= MB1_INFO_MODS;
	mbi->mods_count = 3;
	mbi->mods_addr = (u32)(TOP - 32);
	assert_null(bootinfo_parse(MB1_BOOTLOADER_MAGIC, INFO_AT, &bi));
	assert_int_equal(bi.nmods, 0);
	assert_non_null(bi.mods_unusable);
	assert_non_null(strstr(bi.mods_unusable,
			       "table of 3 modules at 0xffffffe0 runs past 4 GiB"));
}

/* A memory map lamina cannot read whole, or whose entries are too short
 * to hold an entry: lamina stops and says so. */
static void test_bad_mb1_memory_map(void **state)
{
	struct mb1_info *mbi = mb1_basic();

	mbi->mmap_addr = (u32)(TOP - 24);
	mbi->mmap_length = 48;
	expect_error(MB1_BOOTLOADER_MAGIC, INFO_AT,
		     "memory map at 0xffffffe8 (48 bytes) runs past 4 GiB");

	case_setup(state);
	mbi = mb1_basic();
	((struct mb1_mmap_entry *)host_pa(mbi->mmap_addr))[1].size = 16;
	char want[128];
	snprintf(want, sizeof(want), "an entry at %#x of 16 bytes, fewer than the 20 of base, "
		 "length and type", mbi->mmap_addr + (u32)sizeof(struct mb1_mmap_entry));
	expect_error(MB1_BOOTLOADER_MAGIC, INFO_AT, want);
}

/* Information blocks that end past 4 GiB. */
static void test_info_past_4g(void **state)
{
	expect_error(MB1_BOOTLOADER_MAGIC, TOP - 64, "Multiboot information at 0xffffffc0 runs "
		     "past 4 GiB");
	*(u32 *)host_pa(TOP - 16) = 64;
	expect_error(MB2_BOOTLOADER_MAGIC, TOP - 16, "Multiboot2 information at 0xfffffff0 runs "
		     "past 4 GiB");
	expect_error(MB2_BOOTLOADER_MAGIC, TOP - 4, "Multiboot2 information at 0xfffffffc runs "
		     "past 4 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_mb1_modules_keep_their_positions, case_setup),
		cmocka_unit_test_setup(test_mb2_modules_keep_their_positions, case_setup),
		cmocka_unit_test_setup(test_too_many_modules_counted, case_setup),
		cmocka_unit_test_setup(test_long_map_read_whole, case_setup),
		cmocka_unit_test_setup(test_strings_end_at_4g, case_setup),
		cmocka_unit_test_setup(test_module_table_past_4g, case_setup),
		cmocka_unit_test_setup(test_bad_mb1_memory_map, case_setup),
		cmocka_unit_test_setup(test_info_past_4g, case_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
