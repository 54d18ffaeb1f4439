/* Copy and parse the Multiboot1 information. */
#include "boot.h"
#include "print.h"
#include "tap.h"
#include "util.h"

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
} __packed;

struct mb_module {
	u32 start, end, string, reserved;
} __packed;

struct mb_mmap_entry {
	u32 size; /* of the rest of the entry */
	u64 base, len;
	u32 type;
} __packed;

struct boot_info boot;
static char opt_words[sizeof(boot.cmdline)];

static void copy_str(char *dst, u32 src, size_t size)
{
	const char *s = (const char *)src;
	size_t i = 0;

	for (; src && s[i] && i + 1 < size; i++)
		dst[i] = s[i];
	dst[i] = '\0';
}

static void copy_mmap(const struct mb_info *mbi)
{
	u32 p = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;

	while (p < end && boot.n_mmap < BOOT_MAX_MMAP) {
		const struct mb_mmap_entry *e = (const void *)p;

		boot.mmap[boot.n_mmap++] = (struct mmap_range){ e->base, e->len, e->type };
		p += e->size + 4;
	}
}

static void copy_mods(const struct mb_info *mbi)
{
	const struct mb_module *m = (const void *)mbi->mods_addr;

	for (u32 i = 0; i < mbi->mods_count && i < BOOT_MAX_MODS; i++) {
		boot.mods[i].start = m[i].start;
		boot.mods[i].end = m[i].end;
		copy_str(boot.mods[i].cmdline, m[i].string, sizeof(boot.mods[i].cmdline));
		boot.n_mods++;
	}
}

static bool option_known(const char *word)
{
	size_t n = 0;

	while (word[n] && word[n] != '=')
		n++;
	for (const char *const *o = test_options; *o; o++)
		if (strlen(*o) == n && strncmp(*o, word, n) == 0)
			return true;
	return false;
}

/* The command line starts with the kernel's name: "path args" from QEMU
 * and GRUB, "path name.elf args" under lamina on QEMU (-initrd keeps the
 * path), "name.elf args" under lamina on GRUB. Words ending in ".elf"
 * are names; the rest are options. */
static void split_options(void)
{
	char *w = opt_words;

	memcpy(opt_words, boot.cmdline, sizeof(opt_words));
	while (*w) {
		char *start;

		while (*w == ' ')
			*w++ = '\0';
		if (!*w)
			break;
		start = w;
		while (*w && *w != ' ')
			w++;
		if (*w)
			*w++ = '\0';
		if (str_ends_with(start, ".elf"))
			continue;
		if (!option_known(start))
			tap_check(false, "cmdline: unknown option '%s'", start);
		else if (boot.n_opts < BOOT_MAX_OPTS)
			boot.opts[boot.n_opts++] = start;
	}
}

void boot_init(void)
{
	const struct mb_info *mbi = (const void *)boot_mbi;

	if (boot_magic != MB_LOADER_MAGIC) {
		kprintf("# no Multiboot information (EAX=0x%x)\n", boot_magic);
		return;
	}
	boot.flags = mbi->flags;
	if (mbi->flags & MB_INFO_MEM) {
		boot.mem_lower = mbi->mem_lower;
		boot.mem_upper = mbi->mem_upper;
	}
	if (mbi->flags & MB_INFO_CMDLINE)
		copy_str(boot.cmdline, mbi->cmdline, sizeof(boot.cmdline));
	if (mbi->flags & MB_INFO_MMAP)
		copy_mmap(mbi);
	if (mbi->flags & MB_INFO_MODS)
		copy_mods(mbi);
	kprintf("# cmdline: %s\n", boot.cmdline);
	split_options();
}

const char *boot_opt(const char *key)
{
	size_t n = strlen(key);

	for (u32 i = 0; i < boot.n_opts; i++) {
		const char *o = boot.opts[i];

		if (strncmp(o, key, n) == 0 && (o[n] == '\0' || o[n] == '='))
			return o[n] ? o + n + 1 : o + n;
	}
	return NULL;
}

u64 boot_opt_num(const char *key, u64 dflt)
{
	const char *v = boot_opt(key);
	u64 n;

	if (!v)
		return dflt;
	if (parse_u64(v, &n))
		return n;
	tap_check(false, "cmdline: %s=%s is not a number", key, v);
	return dflt;
}

/* Bytes of [base, base+len) covered by entries of `type`. Entries of one
 * type do not overlap each other in any sane map. */
static u64 covered_bytes(u64 base, u64 len, u32 type)
{
	u64 sum = 0;

	for (u32 i = 0; i < boot.n_mmap; i++) {
		const struct mmap_range *r = &boot.mmap[i];
		u64 lo = MAX(base, r->base), hi = MIN(base + len, r->base + r->len);

		if (r->type == type && lo < hi)
			sum += hi - lo;
	}
	return sum;
}

bool mmap_covered(u64 base, u64 len, u32 type)
{
	return covered_bytes(base, len, type) == len;
}

bool mmap_overlaps(u64 base, u64 len, u32 type)
{
	return covered_bytes(base, len, type) != 0;
}
