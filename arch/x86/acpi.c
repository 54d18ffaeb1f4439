/* ACPI table discovery: RSDP (from the loader, or the BIOS areas), then
 * the XSDT or RSDT. */
#include <core/bootinfo.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/string.h>
#include <x86/acpi.h>
#include <x86/apic.h>
#include <x86/paging.h>

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

/* An RSDP of revision 2 or later also has its 36-byte extended checksum
 * right, or ACPICA (and so the guest) passes it over for the next. */
static bool rsdp_ok(const struct rsdp *r, u64 room)
{
	if (memcmp(r->signature, "RSD PTR ", 8) || !checksum_ok(r, 20))
		return false;
	return r->revision < 2 || (room >= sizeof(*r) && checksum_ok(r, sizeof(*r)));
}

static const struct rsdp *scan_rsdp(u64 start, u64 len)
{
	for (u64 a = start; a + 20 <= start + len; a += 16) {
		const struct rsdp *r = phys_to_virt(a);
		if (rsdp_ok(r, start + len - a))
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

/* A table lamina can read: in the direct map, its length covering at
 * least its header and at most 1 MiB (the largest real tables are tens of
 * KiB). A bad checksum is reported but the table used, as ACPICA (and so
 * Linux) uses it: lamina must see what the guest will. */
const struct acpi_header *acpi_table_at(u64 pa, const char *what)
{
	const struct acpi_header *t = phys_to_virt(pa);

	if (!pa || !paging_in_direct_map(pa, sizeof(*t))) {
		log_warn("ACPI: %s at %#llx is outside RAM and ACPI memory: ignored", what,
			 (unsigned long long)pa);
		return NULL;
	}
	if (t->length < sizeof(*t) || t->length > 1 * MiB ||
	    !paging_in_direct_map(pa, t->length)) {
		log_warn("ACPI: %s at %#llx ('%.4s') has a bad length (%u): ignored", what,
			 (unsigned long long)pa, t->signature, t->length);
		return NULL;
	}
	if (!checksum_ok(t, t->length))
		log_warn("ACPI: table '%.4s' at %#llx has a bad checksum; used anyway, as the "
			 "guest's ACPI will", t->signature, (unsigned long long)pa);
	return t;
}

const char *acpi_init(void)
{
	const struct rsdp *r = find_rsdp();

	root = NULL;
	root_is_xsdt = false;
	if (!r)
		return "no ACPI RSDP found";
	if (r->revision >= 2 && r->xsdt) {
		root = acpi_table_at(r->xsdt, "the XSDT");
		root_is_xsdt = root != NULL;
	}
	if (!root)
		root = acpi_table_at(r->rsdt, "the RSDT");
	if (!root)
		return "no usable ACPI root table (XSDT or RSDT)";
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
		if (!pa || !paging_in_direct_map(pa, sizeof(struct acpi_header)))
			continue;
		const struct acpi_header *t = phys_to_virt(pa);
		if (!memcmp(t->signature, sig, 4) && !n--)
			return acpi_table_at(pa, "a table");
	}
	return NULL;
}

#define MADT_LAPIC 0
#define MADT_X2APIC 9
#define MADT_ENABLED BIT(0)
#define MADT_ONLINE_CAPABLE BIT(1) /* MADT revision 5 on (ACPI 6.3) */

/* A CPU the MADT lists as disabled that the OS may still bring online
 * (CPU hot-plug): marked online-capable, or any disabled one in a MADT
 * older than revision 5, which Linux takes as hot-pluggable. lamina has
 * not started it, so the guest must not either. */
static bool may_come_online(const struct acpi_header *madt, u32 flags)
{
	return !(flags & MADT_ENABLED) && ((flags & MADT_ONLINE_CAPABLE) || madt->revision < 5);
}

/* Adds one enabled CPU; false if lamina cannot take it. */
static bool add_cpu(struct madt_cpus *c, u32 id, unsigned int max)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (c->ids[i] == id)
			return true; /* listed twice (LAPIC and x2APIC entries): one CPU */
	if (!apic_id_reachable(id)) {
		log_err("ACPI: the MADT lists a CPU with APIC ID %#x, which lamina cannot address "
			"in this APIC mode", id);
		return false;
	}
	if (c->n == max) {
		log_err("ACPI: more than %u CPUs: the one with APIC ID %u is left out", max, id);
		return false;
	}
	c->ids[c->n++] = id;
	return true;
}

void acpi_madt_cpus(struct madt_cpus *c, unsigned int max)
{
	const struct acpi_header *madt = acpi_find("APIC", 0);

	c->n = 0;
	c->complete = madt != NULL;
	if (!madt) {
		log_warn("ACPI: no MADT: lamina runs on the boot CPU alone");
		return;
	}
	const u8 *p = (const u8 *)madt + sizeof(*madt) + 8; /* local APIC address, flags */
	const u8 *end = (const u8 *)madt + madt->length;
	unsigned int hotplug = 0;

	for (; p + 2 <= end; p += p[1]) {
		if (p[1] < 2 || p + p[1] > end) {
			log_err("ACPI: a MADT entry at offset %#llx has a bad length (%u): the "
				"rest is not read", (unsigned long long)(p - (const u8 *)madt), p[1]);
			c->complete = false;
			return;
		}
		u32 id, flags;
		if (p[0] == MADT_LAPIC && p[1] >= 8) {
			id = p[3] == 0xff ? ~0u : p[3]; /* 0xff: the broadcast ID, no CPU */
			memcpy(&flags, p + 4, 4);
		} else if (p[0] == MADT_X2APIC && p[1] >= 16) {
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
		} else {
			continue;
		}
		if (id == ~0u)
			continue;
		if ((flags & MADT_ENABLED) && !add_cpu(c, id, max))
			c->complete = false;
		if (may_come_online(madt, flags))
			hotplug++;
	}
	if (hotplug) {
		log_info("ACPI: the MADT lists %u CPU%s the guest may bring online later, which "
			 "lamina cannot run: INIT and SIPI to them stay trapped (and dropped)",
			 hotplug, hotplug == 1 ? "" : "s");
		c->complete = false;
	}
}
