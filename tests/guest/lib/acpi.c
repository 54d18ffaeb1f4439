/* Just enough ACPI to count CPUs (the MADT's local APIC and local x2APIC
 * entries) and to find other tables by signature (the MCFG). Tables are
 * below 4 GiB on our emulators, so physical addresses are usable as
 * pointers (paging is off). */
#include "acpi.h"
#include "cpu.h"
#include "print.h"
#include "util.h"

struct rsdp {
	char sig[8];
	u8 csum;
	char oem[6];
	u8 rev;
	u32 rsdt;
	u32 len; /* revision 2 and later */
	u64 xsdt;
	u8 xcsum, reserved[3];
} __packed;

struct sdt_header {
	char sig[4];
	u32 len;
	u8 rev, csum;
	char oem[6], oem_table[8];
	u32 oem_rev, creator, creator_rev;
} __packed;

struct madt_entry {
	u8 type, len;
} __packed;

#define MADT_LAPIC 0
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC 9
#define MADT_ENABLED BIT(0)

static bool sum_ok(const void *p, u32 n)
{
	const u8 *b = p;
	u8 sum = 0;

	while (n--)
		sum += *b++;
	return sum == 0;
}

static const struct rsdp *rsdp_scan(u32 base, u32 len)
{
	for (u32 p = base; p + sizeof(struct rsdp) <= base + len; p += 16) {
		const struct rsdp *r = (const void *)p;

		if (memcmp(r->sig, "RSD PTR ", 8) == 0 && sum_ok(r, 20))
			return r;
	}
	return NULL;
}

static const struct rsdp *rsdp_find(void)
{
	u32 ebda = (u32)*(const u16 *)phys(0x40e) << 4; /* BDA: EBDA segment */
	const struct rsdp *r = NULL;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		r = rsdp_scan(ebda, 1024);
	return r ? r : rsdp_scan(0xe0000, 0x20000);
}

static const struct sdt_header *table_at(u64 addr, const char *sig)
{
	const struct sdt_header *h = (const void *)(u32)addr;

	if (addr >> 32 || memcmp(h->sig, sig, 4) != 0 || !sum_ok(h, h->len))
		return NULL;
	return h;
}

/* The table with signature `sig`, from the XSDT when there is one. */
static const struct sdt_header *table_find(const struct rsdp *r, const char *sig)
{
	bool x = r->rev >= 2 && r->xsdt && sum_ok(r, r->len);
	const struct sdt_header *root = x ? table_at(r->xsdt, "XSDT") : table_at(r->rsdt, "RSDT");
	u32 size = x ? 8 : 4;

	if (!root)
		return NULL;
	for (u32 off = sizeof(*root); off + size <= root->len; off += size) {
		const u8 *p = (const u8 *)root + off;
		u64 addr = x ? *(const u64 *)p : *(const u32 *)p;
		const struct sdt_header *t = table_at(addr, sig);

		if (t)
			return t;
	}
	return NULL;
}

static void add_cpu(struct acpi_cpus *out, u32 apic_id, u32 flags)
{
	if (!(flags & MADT_ENABLED))
		return;
	for (u32 i = 0; i < out->count; i++)
		if (out->apic_id[i] == apic_id)
			return; /* listed twice: as xAPIC and x2APIC */
	if (out->count < ACPI_MAX_CPUS)
		out->apic_id[out->count++] = apic_id;
}

static void madt_parse(const struct sdt_header *madt, struct acpi_cpus *out)
{
	const u8 *p = (const u8 *)madt + sizeof(*madt) + 8, *end = (const u8 *)madt + madt->len;

	out->lapic_addr = *(const u32 *)(madt + 1);
	for (; p + 2 <= end && p[1] >= 2; p += p[1]) {
		if (p[0] == MADT_LAPIC && p[1] >= 8)
			add_cpu(out, p[3], *(const u32 *)(p + 4));
		else if (p[0] == MADT_X2APIC && p[1] >= 16)
			add_cpu(out, *(const u32 *)(p + 4), *(const u32 *)(p + 8));
		else if (p[0] == MADT_LAPIC_OVERRIDE && p[1] >= 12)
			out->lapic_addr = (u32)*(const u64 *)(p + 4);
	}
}

bool acpi_find_cpus(struct acpi_cpus *out)
{
	const struct rsdp *r = rsdp_find();
	const struct sdt_header *madt;

	memset(out, 0, sizeof(*out));
	if (!r) {
		kprintf("# acpi: no RSDP\n");
		return false;
	}
	madt = table_find(r, "APIC");
	if (!madt) {
		kprintf("# acpi: no valid MADT (RSDP at %p, revision %u)\n", (const void *)r, r->rev);
		return false;
	}
	madt_parse(madt, out);
	kprintf("# acpi: MADT at %p lists %u enabled CPUs, local APIC at 0x%x\n",
		(const void *)madt, out->count, out->lapic_addr);
	return true;
}

const void *acpi_table(const char *sig)
{
	const struct rsdp *r = rsdp_find();

	return r ? table_find(r, sig) : NULL;
}
