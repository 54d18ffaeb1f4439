/* From the 64-bit entry to a relocated lamina: read what the loader gave
 * us, bring up the console, carve lamina's home from the top of RAM, build
 * the final page tables there and move the image into it. */
#include <core/bootinfo.h>
#include <core/console.h>
#include <core/cpu.h>
#include <core/init.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/options.h>
#include <core/string.h>
#include <core/version.h>
#include <x86/arch_cpu.h>
#include <x86/cpu.h>
#include <x86/paging.h>

#define HOME_DEFAULT (32 * MiB)
#define HOME_MIN (8 * MiB)
#define HOME_ALIGN (2 * MiB)

static u64 opt_mem = HOME_DEFAULT;
static int parse_mem(const char *v, void *target)
{
	u64 size;

	if (parse_size(v, &size) || size < HOME_MIN || size > 64 * GiB)
		return -1;
	*(u64 *)target = ALIGN_UP(size, HOME_ALIGN);
	return 0;
}
OPTION(mem, "mem", "<size>[K|M|G], 8M to 64G (rounded up to 2M; default 32M)",
       parse_mem, &opt_mem, "memory lamina keeps for itself, from the top of RAM");

extern char _image_start[], _image_end[];
extern char _bss_end_phys[];

/* Option problems are found before the console exists: keep them, packed
 * one after another with their NULs. 2047 bytes of command line hold far
 * fewer bad words than this has room for; any beyond are counted. */
static char option_msgs[16 * 1024];
static size_t option_msgs_used;
static unsigned int option_msgs_lost;
bool options_ok = true;

static void keep_option_msg(const char *msg, void *arg)
{
	size_t n = strlen(msg) + 1;

	if (n > sizeof(option_msgs) - option_msgs_used) {
		option_msgs_lost++;
		return;
	}
	memcpy(option_msgs + option_msgs_used, msg, n);
	option_msgs_used += n;
}

/* Console-only: they quote lamina's command line, which the guest is not
 * to read (the ring is readable through LOG_READ). */
static void print_option_msgs(void)
{
	for (size_t off = 0; off < option_msgs_used; off += strlen(option_msgs + off) + 1)
		log_console(LOG_ERROR, "%s", option_msgs + off);
	if (option_msgs_lost)
		log_console(LOG_ERROR, "%u more option messages did not fit and are not shown",
			    option_msgs_lost);
}

/* QEMU's Multiboot loader (-kernel) always puts the image's path before
 * -append's text, whatever that path looks like. */
static bool loader_puts_path_first(void)
{
	return boot_info.protocol == 1 && !strcmp(boot_info.loader, "qemu");
}

static void print_memmap(const struct memmap *m, const char *title)
{
	log_info("%s:", title);
	for (unsigned int i = 0; i < m->n; i++)
		log_info("  [mem %#014llx-%#014llx] %s",
			 (unsigned long long)m->r[i].base,
			 (unsigned long long)(m->r[i].base + m->r[i].size - 1),
			 mem_type_name(m->r[i].type));
}

static void choose_home(void)
{
	struct mem_range avoid[BOOT_MAX_MODULES + 3];
	unsigned int n = 0;

	avoid[n++] = (struct mem_range){ 0, 1 * MiB, 0 };
	avoid[n++] = (struct mem_range){ boot_info.image_base,
					 boot_info.image_end - boot_info.image_base, 0 };
	avoid[n++] = (struct mem_range){ boot_info.info_base, boot_info.info_size, 0 };
	for (unsigned int i = 0; i < boot_info.nmods; i++)
		avoid[n++] = (struct mem_range){ boot_info.mods[i].start,
			boot_module_size(&boot_info.mods[i]), 0 };
	home.size = opt_mem;
	if (home.size > EARLY_MAP_MAX_NO_1G && !cpu_has_1g_pages()) {
		log_err("mem=: this CPU has no 1 GiB pages, and lamina can map at most %llu MiB "
			"for itself at boot without them; it takes that much",
			(unsigned long long)(EARLY_MAP_MAX_NO_1G >> 20));
		home.size = EARLY_MAP_MAX_NO_1G;
	}
	home.image_size = ALIGN_UP((u64)(_image_end - _image_start), PAGE_SIZE);
	if (memmap_find_free(&boot_info.fw_map, home.size, HOME_ALIGN, UINT64_MAX,
			     avoid, n, &home.base)) {
		log_err("no %llu MiB of free RAM for lamina (option mem=); stopping",
			(unsigned long long)(home.size >> 20));
		halt_forever();
	}
}

/* What the loader gave that lamina could not keep whole. A cut command
 * line may have lost a protecting option (or cut a list of devices to
 * protect short): the guest must not start. */
static void report_boot_info_limits(void)
{
	if (boot_info.cmdline_cut) {
		log_err("lamina's command line is longer than %d bytes: the rest is lost, and "
			"with it perhaps a protecting option", BOOT_CMDLINE_MAX - 1);
		options_ok = false;
	}
	for (unsigned int i = 0; i < boot_info.nmods; i++)
		if (boot_info.mods[i].cmdline_cut)
			log_warn("module %u: its command line is longer than %d bytes; cut", i + 1,
				 BOOT_CMDLINE_MAX - 1);
}

/* What lamina can address: the CPU's physical address width, and the
 * direct map's. A map cut short by lost ranges is said so too. */
static void limit_fw_map(void)
{
	struct memmap *m = &boot_info.fw_map;
	unsigned int bits = MIN(cpu_phys_bits(), (unsigned int)DIRECT_MAP_BITS);

	if (boot_info.fw_map_unread)
		log_err("the firmware's memory map has more than %d entries: the last %u are not "
			"read, and any memory they reserve may be taken as usable",
			MEMMAP_RAW_MAX, boot_info.fw_map_unread);
	if (boot_info.fw_map_left_out)
		log_err("the firmware's memory map has more ranges than lamina keeps (%d) after "
			"merging: %u are left out, usable RAM first from the top, for lamina and "
			"for the guest", MEMMAP_MAX, boot_info.fw_map_left_out);
	if (memmap_clip(m, 1ull << bits))
		log_warn("the firmware's memory map reaches past %u-bit physical addresses "
			 "(%s): the part above %#llx is ignored", bits,
			 bits == DIRECT_MAP_BITS ? "lamina's direct map" : "the CPU's width",
			 1ull << bits);
}

/* Called from entry32.S on the boot stack. */
__noreturn void boot_main(u32 magic, u32 info_pa);
__noreturn void boot_main(u32 magic, u32 info_pa)
{
	const char *err;

	arch_cpu_early_bsp();
	err = bootinfo_parse(magic, info_pa, &boot_info);
	boot_info.image_base = LOAD_PHYS;
	boot_info.image_end = (uintptr_t)_bss_end_phys;
	options_ok = options_parse(boot_info.cmdline, loader_puts_path_first(),
				   keep_option_msg, NULL);
	console_init();
	log_raw("\nlamina " LAMINA_VERSION_STRING " - thin hypervisor for x86-64\n");
	if (err) {
		log_err("%s; stopping", err);
		halt_forever();
	}
	/* The command line names the devices hidden from the guest. */
	log_console(LOG_INFO, "loaded by %s (Multiboot%d), command line: '%s'",
		 boot_info.loader[0] ? boot_info.loader : "an unnamed loader",
		 boot_info.protocol, boot_info.cmdline);
	print_option_msgs();
	report_boot_info_limits();
	print_memmap(&boot_info.fw_map, "firmware memory map");
	limit_fw_map();
	choose_home();
	paging_early_map(home.base, home.size);
	mm_init(home.base + home.image_size, home.base + home.size);
	/* The direct map covers RAM and ACPI tables (device registers go
	 * through io_map), and at least the low 4 GiB. */
	u64 dm_top = MAX(memmap_end_of(&boot_info.fw_map, MEM_USABLE),
			 MAX(memmap_end_of(&boot_info.fw_map, MEM_ACPI),
			     memmap_end_of(&boot_info.fw_map, MEM_NVS)));
	dm_top = ALIGN_UP(MAX(dm_top, 4 * GiB), GiB);
	paging_relocate(paging_build_host(dm_top));
	log_info("lamina's home: [mem %#014llx-%#014llx] (%llu MiB at the top of usable RAM): "
		 "image %llu KiB, %llu KiB free for its allocator",
		 (unsigned long long)home.base,
		 (unsigned long long)(home.base + home.size - 1),
		 (unsigned long long)(home.size >> 20),
		 (unsigned long long)(home.image_size >> 10),
		 (unsigned long long)(mm_free_pages() * 4));
	lamina_main();
}
