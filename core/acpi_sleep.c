/* The ACPI sleep states that take the CPUs' state: S2 and S3. In them the
 * CPUs lose everything, and firmware resumes at the OS's waking vector
 * with virtualization off: the guest would own the machine, lamina's
 * memory and every concealed device.
 *
 * Where lamina can wake from them (the back end can, there is a FACS for
 * the waking vector, and the PM1 control block is one register), a write
 * that sets SLP_EN with an S2/S3 sleep type goes to core/suspend.c, which
 * sleeps and wakes the machine under lamina. Elsewhere:
 *  - the \_S2 and \_S3 packages in the DSDT and SSDTs are renamed (XS3_),
 *    so the guest's ACPI finds no such state (Linux offers s2idle for
 *    "mem" then, which keeps the CPUs running);
 *  - such a write is dropped and logged.
 * Either way a write with a sleep type other than those of S0-S5 is
 * dropped. Without a \_S5 package lamina cannot tell the types apart and
 * handles only the S2 and S3 types it found. */
#include <core/acpi_sleep.h>
#include <core/io.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/string.h>
#include <core/suspend.h>
#include <core/vcpu.h>
#include <x86/acpi.h>
#include <x86/paging.h>

#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_PM1_CNT_LEN 89
#define FADT_FLAGS 112
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM1A_CNT 172
#define FADT_X_PM1B_CNT 184
#define FADT_SLEEP_CONTROL 244
#define FADT_HW_REDUCED BIT(20)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN BIT(13)
#define SLEEP_CTL_SLP_TYP_SHIFT 2
#define SLEEP_CTL_SLP_EN BIT(5)

#define GAS_SPACE_IO 1

struct gas {
	u8 space, bit_width, bit_offset, access_size;
	u64 address;
} __packed;

/* One sleep control register: where SLP_TYP and SLP_EN are in it, the
 * sleep types (bit n: type n) a write with SLP_EN may not carry, and
 * those lamina sleeps and wakes from. */
struct sleep_reg {
	struct io_hook hook;
	unsigned int typ_shift;
	u32 slp_en;
	u8 refused, wakes;
};

static struct log_limit refusals = LOG_LIMIT("sleep state refusals");

/* The register as the write leaves it: the bytes written over its current
 * ones (an access across its edge comes byte by byte, core/io.c). */
static void sleep_reg_write(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size,
			    u32 val)
{
	struct sleep_reg *r = h->arg;
	unsigned int shift = 8 * (port - h->base);
	u64 mask = (BIT(8 * size) - 1) << shift;
	u32 now = io_port_read(h->base, h->count >= 2 ? 2 : 1);
	u32 next = (u32)((now & ~mask) | (((u64)val << shift) & mask));
	unsigned int typ = (next >> r->typ_shift) & 7;

	if ((next & r->slp_en) && (r->wakes & BIT(typ))) {
		suspend_request(v, port, size, val);
		return;
	}
	if ((next & r->slp_en) && (r->refused & BIT(typ))) {
		if (log_limit_pass(&refusals))
			log_warn("CPU %u: the guest tried to enter a sleep state with SLP_TYP %u "
				 "at %s: refused (dropped), the CPUs would come back without "
				 "lamina", v->cpu->index, typ, h->name);
		return;
	}
	io_port_write(port, size, val);
}

static const struct io_ops sleep_reg_ops = { io_pass_read, sleep_reg_write };

/* PM1a and PM1b, each at its 32-bit port and its 64-bit address where
 * those differ (which one ACPICA takes then depends on its settings), and
 * the hardware-reduced SLEEP_CONTROL_REG. */
static struct sleep_reg regs[5];
static unsigned int nregs;

struct sleep_masks {
	u8 refused, wakes;
};

static void hook_port(const char *name, u64 port, unsigned int len, unsigned int typ_shift,
		      u32 slp_en, struct sleep_masks m)
{
	struct sleep_reg *r;

	if (port + len > 0x10000 || len == 0 || len > 4 || nregs == ARRAY_SIZE(regs)) {
		log_warn("ACPI: %s at port %#llx (%u bytes) is malformed: not hooked", name,
			 (unsigned long long)port, len);
		return;
	}
	r = &regs[nregs++];
	r->hook = (struct io_hook){ .base = (u16)port, .count = (u16)len, .name = name,
				    .ops = &sleep_reg_ops, .arg = r };
	r->typ_shift = typ_shift;
	r->slp_en = slp_en;
	r->refused = m.refused;
	r->wakes = m.wakes;
	if (io_hook_register(&r->hook))
		return;
	if (m.refused)
		log_info("ACPI: %s at port %#x: a sleep with SLP_TYP in %#x is refused", name,
			 (unsigned int)port, m.refused);
	if (m.wakes)
		log_info("ACPI: %s at port %#x: a sleep with SLP_TYP in %#x is lamina's to enter "
			 "and wake from", name, (unsigned int)port, m.wakes);
}

/* A register given as a 32-bit port (0: none) and/or a GAS (NULL: the
 * FADT is too short for it). */
static void hook_reg(const char *name, u32 port, const struct gas *x, unsigned int len,
		     unsigned int typ_shift, u32 slp_en, struct sleep_masks m)
{
	if (!m.refused && !m.wakes)
		return;
	if (port)
		hook_port(name, port, len, typ_shift, slp_en, m);
	if (!x || !x->address || x->address == port)
		return;
	if (x->space == GAS_SPACE_IO)
		hook_port(name, x->address, len, typ_shift, slp_en, m);
	else
		log_warn("ACPI: %s is in memory space at %#llx: lamina cannot refuse S2/S3 there",
			 name, (unsigned long long)x->address);
}

/* The sleep types found for each state, for the A and B registers (bit
 * n: type n; a state may be defined more than once, under conditions),
 * and which states were found (bit n: state n). */
struct sleep_types {
	u8 types[6][2];
	u8 found;
};

/* Collects the states' types from one AML table and, unless lamina wakes
 * from them, renames \_S2 and \_S3 there (the checksum kept right). */
static void scan_table(struct acpi_header *t, struct sleep_types *st, bool wake)
{
	u8 *aml = (u8 *)t;
	struct aml_sleep_pkg pkg;

	for (char d = '0'; d <= '5'; d++) {
		for (size_t at = sizeof(*t);
		     aml_find_sleep_pkg(aml, t->length, at, d, &pkg); at = pkg.name_at + 4) {
			unsigned int s = (unsigned int)(d - '0');
			st->types[s][0] |= (u8)BIT(pkg.slp_typ[0]);
			st->types[s][1] |= (u8)BIT(pkg.slp_typ[1]);
			st->found |= (u8)BIT(s);
			if (s != 2 && s != 3)
				continue;
			if (wake) {
				log_info("ACPI: \\_S%u (SLP_TYP %u/%u) in %.4s: lamina sleeps and "
					 "wakes from it", s, pkg.slp_typ[0], pkg.slp_typ[1],
					 t->signature);
				continue;
			}
			aml[pkg.name_at] = 'X';
			t->checksum += '_' - 'X';
			log_info("ACPI: \\_S%u (SLP_TYP %u/%u) hidden in %.4s: the CPUs would come "
				 "back from it without lamina", s, pkg.slp_typ[0], pkg.slp_typ[1],
				 t->signature);
		}
	}
}

static struct sleep_masks sleep_masks(const struct sleep_types *st, unsigned int ab, bool wake)
{
	u8 lose = 0, allowed = 0;
	struct sleep_masks m = { 0, 0 };

	for (unsigned int s = 0; s < 6; s++) {
		if (s == 2 || s == 3)
			lose |= st->types[s][ab];
		else
			allowed |= st->types[s][ab];
	}
	if (wake)
		m.wakes = lose;
	else
		m.refused = lose;
	if (st->found & BIT(5))
		m.refused |= (u8)~(allowed | m.wakes);
	return m;
}

static const struct gas *fadt_gas(const struct acpi_header *fadt, unsigned int off)
{
	return fadt->length >= off + sizeof(struct gas) ? (const void *)((const u8 *)fadt + off)
							: NULL;
}

static u32 fadt_u32(const struct acpi_header *fadt, unsigned int off)
{
	u32 v = 0;

	if (fadt->length >= off + 4)
		memcpy(&v, (const u8 *)fadt + off, 4);
	return v;
}

/* The FACS, where the OS leaves its waking vector: FIRMWARE_CTRL's and
 * X_FIRMWARE_CTRL's, both when they differ (which one firmware and the
 * guest's ACPI take depends on them). In memory the guest writes: read
 * once per use. */
struct facs {
	char signature[4];
	u32 length, hw_signature;
	u32 waking_vector;
	u32 global_lock, flags;
	u64 x_waking_vector; /* if length >= 32 */
} __packed;

static volatile struct facs *facs[2];
static u32 facs_saved[2];
static unsigned int nfacs;

static void facs_add(u64 pa)
{
	volatile struct facs *f = phys_to_virt(pa);

	if (!pa || (nfacs && facs[0] == f))
		return;
	if (!paging_in_direct_map(pa, sizeof(*f)) || memcmp((const void *)f->signature, "FACS", 4) ||
	    f->length < 24) {
		log_warn("ACPI: no usable FACS at %#llx: ignored", (unsigned long long)pa);
		return;
	}
	facs[nfacs++] = f;
}

const char *acpi_sleep_guest_vector(u32 *vector)
{
	u32 v = 0;

	for (unsigned int i = 0; i < nfacs; i++) {
		u32 w = facs[i]->waking_vector;
		if (facs[i]->length >= 32 && facs[i]->x_waking_vector)
			return "the guest left a 32/64-bit waking vector (X_Firmware_Waking_Vector), "
			       "which lamina does not wake into";
		if (v && w && w != v)
			return "the two FACS hold different waking vectors";
		v = v ? v : w;
	}
	if (!v)
		return "the guest left no waking vector in the FACS";
	if (v >= 0x100000)
		return "the guest's waking vector is not below 1 MiB";
	*vector = v;
	return NULL;
}

void acpi_sleep_lend_vector(u32 lamina_vector)
{
	for (unsigned int i = 0; i < nfacs; i++) {
		facs_saved[i] = facs[i]->waking_vector;
		facs[i]->waking_vector = lamina_vector;
	}
}

void acpi_sleep_return_vector(void)
{
	for (unsigned int i = 0; i < nfacs; i++)
		facs[i]->waking_vector = facs_saved[i];
}

static u64 fadt_u64(const struct acpi_header *fadt, unsigned int off)
{
	u64 v = 0;

	if (fadt->length >= off + 8)
		memcpy(&v, (const u8 *)fadt + off, 8);
	return v;
}

/* Whether lamina can wake from S2/S3 here; finds the FACS(es). */
static bool can_wake(const struct acpi_header *fadt)
{
	const struct gas *b = fadt_gas(fadt, FADT_X_PM1B_CNT);

	if (!vendor->vcpu_wake) {
		log_info("ACPI: lamina cannot wake from S2/S3 on %s yet", vendor->name);
		return false;
	}
	if (fadt_u32(fadt, FADT_PM1B_CNT) || (b && b->address)) {
		log_info("ACPI: a PM1b control register: lamina does not enter S2/S3 through two");
		return false;
	}
	facs_add(fadt_u32(fadt, FADT_FIRMWARE_CTRL));
	facs_add(fadt_u64(fadt, FADT_X_FIRMWARE_CTRL));
	return nfacs > 0;
}

void acpi_sleep_init(void)
{
	const struct acpi_header *fadt = acpi_find("FACP", 0);
	struct sleep_types st = { 0 };
	struct acpi_header *t;
	u64 dsdt;
	bool wake;

	if (!fadt)
		return;
	wake = can_wake(fadt);
	dsdt = fadt_u64(fadt, FADT_X_DSDT);
	if (!dsdt)
		dsdt = fadt_u32(fadt, FADT_DSDT);
	if (dsdt && (t = (struct acpi_header *)acpi_table_at(dsdt, "the DSDT")))
		scan_table(t, &st, wake);
	for (unsigned int i = 0; (t = (struct acpi_header *)acpi_find("SSDT", i)); i++)
		scan_table(t, &st, wake);
	if (!(st.found & (BIT(2) | BIT(3) | BIT(5))))
		return;
	if (!(st.found & BIT(5)))
		log_warn("ACPI: no \\_S5 package found: only the S2/S3 sleep types are refused");
	/* At least the two bytes that hold SLP_TYP and SLP_EN, whatever
	 * PM1_CNT_LEN says. */
	unsigned int len = fadt->length > FADT_PM1_CNT_LEN ? ((const u8 *)fadt)[FADT_PM1_CNT_LEN]
							   : 2;
	if (len < 2)
		len = 2;
	hook_reg("PM1a_CNT", fadt_u32(fadt, FADT_PM1A_CNT), fadt_gas(fadt, FADT_X_PM1A_CNT), len,
		 PM1_SLP_TYP_SHIFT, PM1_SLP_EN, sleep_masks(&st, 0, wake));
	hook_reg("PM1b_CNT", fadt_u32(fadt, FADT_PM1B_CNT), fadt_gas(fadt, FADT_X_PM1B_CNT), len,
		 PM1_SLP_TYP_SHIFT, PM1_SLP_EN, sleep_masks(&st, 1, false));
	if (fadt_u32(fadt, FADT_FLAGS) & FADT_HW_REDUCED)
		hook_reg("SLEEP_CONTROL_REG", 0, fadt_gas(fadt, FADT_SLEEP_CONTROL), 1,
			 SLEEP_CTL_SLP_TYP_SHIFT, SLEEP_CTL_SLP_EN, sleep_masks(&st, 0, wake));
}
