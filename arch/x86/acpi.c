/* ACPI table discovery: RSDP (from the loader, or the BIOS areas), then
 * the XSDT or RSDT. */
#include <core/bootinfo.h>
#include <core/mm.h>
#include <core/string.h>
#include <x86/acpi.h>

struct rsdp {
	char signature[8];
	u8 checksum;
	char oem_id[6];
	u8 revision;
	u32 rsdt;
	u32 length;
	u64 xsdt;
	u8 ext_checksum, reserved[3];
} __packed;

static const struct acpi_header *root;
static bool root_is_xsdt;

static bool checksum_ok(const void *p, size_t len)
{
	u8 sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += ((const u8 *)p)[i];
	return sum == 0;
}

static const struct rsdp *scan_rsdp(u64 start, u64 len)
{
	for (u64 a = start; a + 20 <= start + len; a += 16) {
		const struct rsdp *r = phys_to_virt(a);
		if (!memcmp(r->signature, "RSD PTR ", 8) && checksum_ok(r, 20))
			return r;
	}
	return NULL;
}

static const struct rsdp *find_rsdp(void)
{
	if (boot_info.has_rsdp)
		return (const struct rsdp *)boot_info.rsdp;
	u64 ebda = (u64)*(const u16 *)phys_to_virt(0x40e) << 4;
	const struct rsdp *r = ebda ? scan_rsdp(ebda, 1024) : NULL;
	return r ? r : scan_rsdp(0xe0000, 0x20000);
}

/* A table's length covers at least its header and at most 1 MiB (the
 * largest real tables are tens of KiB), and its checksum is right. */
static bool table_ok(const struct acpi_header *t)
{
	return t->length >= sizeof(*t) && t->length <= 1 * MiB && checksum_ok(t, t->length);
}

const char *acpi_init(void)
{
	const struct rsdp *r = find_rsdp();

	if (!r)
		return "no ACPI RSDP found";
	if (r->revision >= 2 && r->xsdt) {
		root = phys_to_virt(r->xsdt);
		root_is_xsdt = true;
	} else {
		root = phys_to_virt(r->rsdt);
	}
	if (!table_ok(root))
		return "the ACPI root table has a bad length or checksum";
	return NULL;
}

const struct acpi_header *acpi_find(const char sig[4], unsigned int n)
{
	if (!root)
		return NULL;
	unsigned int entry = root_is_xsdt ? 8 : 4;
	unsigned int count = (root->length - sizeof(*root)) / entry;
	const u8 *p = (const u8 *)(root + 1);

	for (unsigned int i = 0; i < count; i++) {
		u64 pa = 0;
		memcpy(&pa, p + i * entry, entry);
		const struct acpi_header *t = phys_to_virt(pa);
		if (!memcmp(t->signature, sig, 4) && table_ok(t) && !n--)
			return t;
	}
	return NULL;
}

#define MADT_LAPIC 0
#define MADT_X2APIC 9

unsigned int acpi_cpu_apic_ids(u32 *ids, unsigned int max)
{
	const struct acpi_header *madt = acpi_find("APIC", 0);
	unsigned int n = 0;

	if (!madt)
		return 0;
	const u8 *p = (const u8 *)madt + sizeof(*madt) + 8; /* local APIC address, flags */
	const u8 *end = (const u8 *)madt + madt->length;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		u32 id = 0, flags = 0;
		bool cpu = false;
		if (p[0] == MADT_LAPIC && p[1] >= 8) {
			id = p[3];
			memcpy(&flags, p + 4, 4);
			cpu = true;
		} else if (p[0] == MADT_X2APIC && p[1] >= 16) {
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
			cpu = true;
		}
		bool dup = false;
		for (unsigned int i = 0; i < n; i++)
			dup |= ids[i] == id;
		if (cpu && (flags & 1) && !dup && n < max)
			ids[n++] = id;
		p += p[1];
	}
	return n;
}
