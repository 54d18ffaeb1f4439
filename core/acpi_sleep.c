/* S2 and S3 stay out of the guest's reach. Entered, they take the CPUs'
 * state with them, and firmware resumes at the OS's waking vector with
 * virtualization off (seen on QEMU before this: Linux woke from
 * suspend-to-RAM no longer under lamina). lamina does not resume itself
 * (yet); instead:
 *  - the \_S2 and \_S3 packages in the DSDT and SSDTs are renamed (XS3_),
 *    so the guest's ACPI finds no such state (Linux offers s2idle for
 *    "mem" then, which keeps the CPUs running);
 *  - a write to a PM1 control register (or the hardware-reduced sleep
 *    control register) that sets SLP_EN with a sleep type other than
 *    those of S0, S1, S4 and S5, or with that of S2 or S3, is dropped and
 *    logged. Without a \_S5 package lamina cannot tell the others apart
 *    and refuses only the S2 and S3 types it found. */
#include <core/acpi_sleep.h>
#include <core/io.h>
#include <core/log.h>
#include <core/string.h>
#include <x86/acpi.h>

#define FADT_DSDT 40
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_PM1_CNT_LEN 89
#define FADT_FLAGS 112
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

/* One sleep control register: where SLP_TYP and SLP_EN are in it, and
 * the sleep types (bit n: type n) a write with SLP_EN may not carry. */
struct sleep_reg {
	struct io_hook hook;
	unsigned int typ_shift;
	u32 slp_en;
	u8 refused;
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

static void hook_port(const char *name, u64 port, unsigned int len, unsigned int typ_shift,
		      u32 slp_en, u8 refused)
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
	r->refused = refused;
	if (!io_hook_register(&r->hook))
		log_info("ACPI: %s at port %#x: a sleep with SLP_TYP in %#x is refused", name,
			 (unsigned int)port, refused);
}

/* A register given as a 32-bit port (0: none) and/or a GAS (NULL: the
 * FADT is too short for it). */
static void hook_reg(const char *name, u32 port, const struct gas *x, unsigned int len,
		     unsigned int typ_shift, u32 slp_en, u8 refused)
{
	if (!refused)
		return;
	if (port)
		hook_port(name, port, len, typ_shift, slp_en, refused);
	if (!x || !x->address || x->address == port)
		return;
	if (x->space == GAS_SPACE_IO)
		hook_port(name, x->address, len, typ_shift, slp_en, refused);
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

/* Collects the states' types from one AML table and renames \_S2 and
 * \_S3 there (the checksum kept right). */
static void scan_table(struct acpi_header *t, struct sleep_types *st)
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
			aml[pkg.name_at] = 'X';
			t->checksum += '_' - 'X';
			log_info("ACPI: \\_S%u (SLP_TYP %u/%u) hidden in %.4s: the CPUs would come "
				 "back from it without lamina", s, pkg.slp_typ[0], pkg.slp_typ[1],
				 t->signature);
		}
	}
}

static u8 refused_types(const struct sleep_types *st, unsigned int ab)
{
	u8 refused = 0, allowed = 0;

	for (unsigned int s = 0; s < 6; s++) {
		if (s == 2 || s == 3)
			refused |= st->types[s][ab];
		else
			allowed |= st->types[s][ab];
	}
	if (st->found & BIT(5))
		refused |= (u8)~allowed;
	return refused;
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

void acpi_sleep_init(void)
{
	const struct acpi_header *fadt = acpi_find("FACP", 0);
	struct sleep_types st = { 0 };
	struct acpi_header *t;
	u64 dsdt = 0;

	if (!fadt)
		return;
	if (fadt->length >= FADT_X_DSDT + 8)
		memcpy(&dsdt, (const u8 *)fadt + FADT_X_DSDT, 8);
	if (!dsdt)
		dsdt = fadt_u32(fadt, FADT_DSDT);
	if (dsdt && (t = (struct acpi_header *)acpi_table_at(dsdt, "the DSDT")))
		scan_table(t, &st);
	for (unsigned int i = 0; (t = (struct acpi_header *)acpi_find("SSDT", i)); i++)
		scan_table(t, &st);
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
		 PM1_SLP_TYP_SHIFT, PM1_SLP_EN, refused_types(&st, 0));
	hook_reg("PM1b_CNT", fadt_u32(fadt, FADT_PM1B_CNT), fadt_gas(fadt, FADT_X_PM1B_CNT), len,
		 PM1_SLP_TYP_SHIFT, PM1_SLP_EN, refused_types(&st, 1));
	if (fadt_u32(fadt, FADT_FLAGS) & FADT_HW_REDUCED)
		hook_reg("SLEEP_CONTROL_REG", 0, fadt_gas(fadt, FADT_SLEEP_CONTROL), 1,
			 SLEEP_CTL_SLP_TYP_SHIFT, SLEEP_CTL_SLP_EN, refused_types(&st, 0));
}
