/* Multiboot 1 and 2 structures: what loaders give lamina, and (Multiboot 1)
 * what lamina gives a Multiboot guest. */
#ifndef X86_MULTIBOOT_H
#define X86_MULTIBOOT_H

#include <core/types.h>

#define MB1_BOOTLOADER_MAGIC 0x2badb002u
#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define MB1_HEADER_MAGIC 0x1badb002u
#define MB1_SEARCH_BYTES 8192

#define MB1_INFO_MEMORY BIT(0)
#define MB1_INFO_BOOTDEV BIT(1)
#define MB1_INFO_CMDLINE BIT(2)
#define MB1_INFO_MODS BIT(3)
#define MB1_INFO_MMAP BIT(6)
#define MB1_INFO_LOADER_NAME BIT(9)

struct mb1_info {
	u32 flags;
	u32 mem_lower, mem_upper; /* KiB below 1 MiB, KiB from 1 MiB up to the first hole */
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr;
	u32 config_table;
	u32 boot_loader_name;
	u32 apm_table;
	u32 vbe[6];
} __packed;

struct mb1_module {
	u32 mod_start, mod_end, string, reserved;
} __packed;

struct mb1_mmap_entry {
	u32 size; /* of the rest of the entry */
	u64 base, length;
	u32 type;
} __packed;

struct mb1_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} __packed;

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

struct mb2_tag {
	u32 type, size;
} __packed;

struct mb2_tag_module {
	u32 type, size, mod_start, mod_end;
	char string[];
} __packed;

struct mb2_tag_mmap {
	u32 type, size, entry_size, entry_version;
} __packed;

struct mb2_mmap_entry {
	u64 base, length;
	u32 type, reserved;
} __packed;

#endif
