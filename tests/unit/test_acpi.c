/* arch/x86/acpi.c: finding the root table and the MADT's CPUs in tables
 * built on a stand-in physical memory, including the malformed ones
 * firmware ships: bad checksums (used, as ACPICA does), tables outside
 * what lamina maps, broken entry lengths, IDs lamina cannot address, more
 * CPUs than it takes. Whenever a CPU may have been missed, the result
 * must say so (complete = false): lamina then keeps the guest from
 * starting CPUs it does not run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <core/bootinfo.h>
#include <core/cpu.h>
#include <core/log.h>
#include <x86/acpi.h>

#include "host_env.h"
#include "host_phys.h"

#define PHYS_SIZE (64 * MiB)
#define RSDT_AT 0x100000
#define XSDT_AT 0x101000
#define MADT_AT 0x102000
#define MADT2_AT 0x103000

struct boot_info boot_info;
static bool x2apic;
static u64 mapped_top = PHYS_SIZE;
static char logged[8192];

void log_msg(enum log_level level, const char *fmt, ...)
{
	size_t n = strlen(logged);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(logged + n, sizeof(logged) - n, fmt, ap);
	va_end(ap);
	strncat(logged, "\n", sizeof(logged) - strlen(logged) - 1);
	printf("# lamina: %s", logged + n);
}

bool apic_id_reachable(u32 id)
{
	return x2apic ? id != ~0u : id < 0xff;
}

bool paging_in_direct_map(u64 pa, u64 size)
{
	return pa < mapped_top && size <= mapped_top - pa;
}


static void fix_checksum(u64 at)
{
	u32 len;
	u8 sum = 0;

	memcpy(&len, host_pa(at + 4), 4);
	host_pa(at)[9] = 0;
	for (u32 i = 0; i < len; i++)
		sum += host_pa(at)[i];
	host_pa(at)[9] = (u8)-sum;
}

static void header(u64 at, const char *sig, u32 len)
{
	memcpy(host_pa(at), sig, 4);
	put32(at + 4, len);
	memcpy(host_pa(at + 10), "LAMINA", 6);
}

/* An RSDP (revision 2) handed over by the loader, an RSDT and an XSDT
 * listing the given tables. */
static void roots(const u64 *tables, unsigned int n)
{
	u8 *r = boot_info.rsdp;

	memset(r, 0, sizeof(boot_info.rsdp));
	memcpy(r, "RSD PTR ", 8);
	r[15] = 2;
	memcpy(r + 16, &(u32){ RSDT_AT }, 4);
	memcpy(r + 24, &(u64){ XSDT_AT }, 8);
	boot_info.has_rsdp = true;
	header(RSDT_AT, "RSDT", 36 + 4 * n);
	header(XSDT_AT, "XSDT", 36 + 8 * n);
	for (unsigned int i = 0; i < n; i++) {
		put32(RSDT_AT + 36 + 4 * i, (u32)tables[i]);
		put64(XSDT_AT + 36 + 8 * i, tables[i]);
	}
	fix_checksum(RSDT_AT);
	fix_checksum(XSDT_AT);
}

struct madt_entry {
	u8 type;
	u32 id, flags;
	u8 len; /* 0: the type's own */
};

#define LAPIC(id, fl) { 0, (id), (fl), 0 }
#define X2APIC(id, fl) { 9, (id), (fl), 0 }

static u8 madt_revision;

static void madt(u64 at, const struct madt_entry *e, unsigned int n)
{
	u64 p = at + 44;

	for (unsigned int i = 0; i < n; i++) {
		u8 len = e[i].len ? e[i].len : e[i].type == 9 ? 16 : 8;
		host_pa(p)[0] = e[i].type;
		host_pa(p)[1] = len;
		if (e[i].type == 0) {
			host_pa(p)[3] = (u8)e[i].id;
			put32(p + 4, e[i].flags);
		} else if (e[i].type == 9) {
			put32(p + 4, e[i].id);
			put32(p + 8, e[i].flags);
		}
		p += e[i].len == 0 ? len : MAX(e[i].len, (u8)2);
	}
	header(at, "APIC", (u32)(p - at));
	host_pa(at + 8)[0] = madt_revision;
	put32(at + 36, 0xfee00000);
	fix_checksum(at);
}

static u32 ids[MAX_CPUS];

static struct madt_cpus cpus_found(unsigned int max)
{
	struct madt_cpus c = { .ids = ids };

	assert_null(acpi_init());
	acpi_madt_cpus(&c, max);
	return c;
}

/* Roots listing one MADT with these entries. */
static void one_madt(const struct madt_entry *e, unsigned int n)
{
	const u64 t[] = { MADT_AT };

	roots(t, 1);
	madt(MADT_AT, e, n);
}

static void expect_ids(const struct madt_cpus *c, const u32 *want, unsigned int n)
{
	assert_int_equal(c->n, n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(c->ids[i], want[i]);
}

static int case_setup(void **state)
{
	x2apic = false;
	mapped_top = PHYS_SIZE;
	logged[0] = 0;
	madt_revision = 5;
	memset(&boot_info, 0, sizeof(boot_info));
	return host_phys_reset(PHYS_SIZE);
}

static void test_madt_cpus(void **state)
{
	const struct madt_entry e[] = {
		LAPIC(0, 1), LAPIC(1, 1), LAPIC(2, 1),
		LAPIC(3, 0),      /* disabled: no CPU */
		LAPIC(0xff, 1),   /* the broadcast ID: no CPU */
		X2APIC(1, 1),     /* the same CPU again */
		{ 1, 0, 0, 12 },  /* an I/O APIC entry */
	};
	const u32 want[] = { 0, 1, 2 };

	one_madt(e, ARRAY_SIZE(e));
	struct madt_cpus c = cpus_found(MAX_CPUS);
	expect_ids(&c, want, 3);
	assert_true(c.complete);
	assert_null(strstr(logged, "bad checksum"));
}

/* A disabled CPU the OS may bring online later (online-capable from MADT
 * revision 5, any disabled one before): lamina cannot run it, so the list
 * is not complete (the guest's INIT/SIPI to it stay trapped). */
static void test_madt_hotplug(void **state)
{
	const struct madt_entry capable[] = { LAPIC(0, 1), LAPIC(1, 1), LAPIC(2, 2) };
	const struct madt_entry disabled[] = { LAPIC(0, 1), LAPIC(1, 1), X2APIC(7, 0) };
	const u32 want[] = { 0, 1 };

	one_madt(capable, ARRAY_SIZE(capable));
	struct madt_cpus c = cpus_found(MAX_CPUS);
	expect_ids(&c, want, 2);
	assert_false(c.complete);
	assert_non_null(strstr(logged, "1 CPU the guest may bring online later"));

	host_phys_reset(PHYS_SIZE);
	one_madt(disabled, ARRAY_SIZE(disabled));
	c = cpus_found(MAX_CPUS);
	expect_ids(&c, want, 2);
	assert_true(c.complete); /* revision 5, not online-capable: never there */

	madt_revision = 4;
	host_phys_reset(PHYS_SIZE);
	one_madt(disabled, ARRAY_SIZE(disabled));
	c = cpus_found(MAX_CPUS);
	expect_ids(&c, want, 2);
	assert_false(c.complete);
}

/* An RSDP found by scanning the BIOS area (no loader's copy): a revision
 * 2 one must also have its 36-byte extended checksum right, as ACPICA
 * checks; the first candidate, whose extended checksum is wrong (and whose
 * roots lead nowhere), is passed over for the next. */
static void put_rsdp(u64 at, const u8 *copy, bool ext_ok)
{
	u8 *r = host_pa(at);
	u8 sum = 0;

	memcpy(r, copy, 36);
	put32(at + 20, 36);
	if (!ext_ok)
		memset(r + 16, 0, 4), memset(r + 24, 0, 8);
	r[8] = r[32] = 0;
	for (int i = 0; i < 20; i++)
		sum += r[i];
	r[8] = (u8)-sum;
	sum = 0;
	for (int i = 0; i < 36; i++)
		sum += r[i];
	r[32] = (u8)(-sum + (ext_ok ? 0 : 1));
}

static void test_rsdp_scan(void **state)
{
	const struct madt_entry e[] = { LAPIC(0, 1), LAPIC(1, 1) };
	const u32 want[] = { 0, 1 };

	one_madt(e, ARRAY_SIZE(e));
	boot_info.has_rsdp = false;
	put_rsdp(0xe0000, boot_info.rsdp, false);
	put_rsdp(0xe0030, boot_info.rsdp, true);
	struct madt_cpus c = cpus_found(MAX_CPUS);
	expect_ids(&c, want, 2);
}

/* An x2APIC ID above 254 cannot be reached in xAPIC mode; in x2APIC mode
 * it can. */
static void test_madt_unreachable_id(void **state)
{
	const struct madt_entry e[] = { LAPIC(0, 1), X2APIC(300, 1), LAPIC(1, 1) };

	one_madt(e, ARRAY_SIZE(e));
	struct madt_cpus c = cpus_found(MAX_CPUS);
	expect_ids(&c, (const u32[]){ 0, 1 }, 2);
	assert_false(c.complete);
	assert_non_null(strstr(logged, "APIC ID 0x12c, which lamina cannot address"));

	x2apic = true;
	c = cpus_found(MAX_CPUS);
	expect_ids(&c, (const u32[]){ 0, 300, 1 }, 3);
	assert_true(c.complete);
}

static void test_madt_too_many(void **state)
{
	struct madt_entry e[6];

	for (unsigned int i = 0; i < ARRAY_SIZE(e); i++)
		e[i] = (struct madt_entry)LAPIC(i * 2, 1);
	one_madt(e, ARRAY_SIZE(e));
	struct madt_cpus c = cpus_found(4);
	expect_ids(&c, (const u32[]){ 0, 2, 4, 6 }, 4);
	assert_false(c.complete);
	assert_non_null(strstr(logged, "more than 4 CPUs: the one with APIC ID 8 is left out"));
}

/* A zero-length entry ends the walk: what follows may be CPUs. */
static void test_madt_broken_entry(void **state)
{
	const struct madt_entry e[] = { LAPIC(0, 1), LAPIC(1, 1), { 0, 2, 1, 1 }, LAPIC(3, 1) };

	one_madt(e, ARRAY_SIZE(e));
	struct madt_cpus c = cpus_found(MAX_CPUS);
	expect_ids(&c, (const u32[]){ 0, 1 }, 2);
	assert_false(c.complete);
	assert_non_null(strstr(logged, "has a bad length (1): the rest is not read"));
}

/* ACPICA only warns about a bad checksum, so the guest uses the table:
 * lamina must see the same CPUs. */
static void test_bad_checksum_used(void **state)
{
	const struct madt_entry e[] = { LAPIC(0, 1), LAPIC(1, 1) };

	one_madt(e, ARRAY_SIZE(e));
	host_pa(MADT_AT)[9] ^= 0x55;
	host_pa(XSDT_AT)[9] ^= 0x55;
	struct madt_cpus c = cpus_found(MAX_CPUS);
	expect_ids(&c, (const u32[]){ 0, 1 }, 2);
	assert_true(c.complete);
	assert_non_null(strstr(logged, "table 'APIC' at 0x102000 has a bad checksum; used"));
	assert_non_null(strstr(logged, "table 'XSDT' at 0x101000 has a bad checksum; used"));
}

/* Root entries that are 0, beyond what lamina maps, or tables with an
 * absurd length are passed over, not read. */
static void test_tables_outside_the_map(void **state)
{
	const struct madt_entry e[] = { LAPIC(0, 1), LAPIC(5, 1) };
	const u64 t[] = { 0, 0xfffffffffffff000ull, 60 * MiB, MADT2_AT, MADT_AT };

	mapped_top = 60 * MiB;
	roots(t, ARRAY_SIZE(t));
	header(MADT2_AT, "APIC", 0x7fffffff); /* the first MADT: absurd length */
	madt(MADT_AT, e, ARRAY_SIZE(e));
	assert_null(acpi_init());
	assert_null(acpi_find("APIC", 0));
	assert_non_null(strstr(logged, "'APIC') has a bad length (2147483647): ignored"));
	assert_ptr_equal(acpi_find("APIC", 1), host_pa(MADT_AT));
}

/* An XSDT lamina cannot read: the RSDT serves instead. */
static void test_xsdt_unusable(void **state)
{
	const struct madt_entry e[] = { LAPIC(0, 1), LAPIC(1, 1) };

	one_madt(e, ARRAY_SIZE(e));
	put32(XSDT_AT + 4, 12); /* shorter than its header */
	struct madt_cpus c = cpus_found(MAX_CPUS);
	expect_ids(&c, (const u32[]){ 0, 1 }, 2);
	assert_non_null(strstr(logged, "the XSDT at 0x101000 ('XSDT') has a bad length (12)"));

	put32(RSDT_AT + 4, 0); /* and neither root */
	assert_non_null(acpi_init());
}

static void test_no_madt(void **state)
{
	const u64 t[] = { MADT_AT };

	roots(t, 1);
	header(MADT_AT, "FACP", 64);
	struct madt_cpus c = cpus_found(MAX_CPUS);
	assert_int_equal(c.n, 0);
	assert_false(c.complete);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_madt_cpus, case_setup),
		cmocka_unit_test_setup(test_madt_hotplug, case_setup),
		cmocka_unit_test_setup(test_rsdp_scan, case_setup),
		cmocka_unit_test_setup(test_madt_unreachable_id, case_setup),
		cmocka_unit_test_setup(test_madt_too_many, case_setup),
		cmocka_unit_test_setup(test_madt_broken_entry, case_setup),
		cmocka_unit_test_setup(test_bad_checksum_used, case_setup),
		cmocka_unit_test_setup(test_tables_outside_the_map, case_setup),
		cmocka_unit_test_setup(test_xsdt_unusable, case_setup),
		cmocka_unit_test_setup(test_no_madt, case_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
