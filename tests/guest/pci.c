/* pci: configuration space as the guest sees it, through CF8/CFC (every
 * width and byte lane) and ECAM (where ACPI has an MCFG), with one function
 * concealed by lamina (conceal=BB:DD.F on lamina's command line, and the
 * same BB:DD.F as this kernel's `hidden=` option).
 *
 * Options:
 *   hidden=BB:DD.F  the function lamina conceals (under lamina)
 *   bar=ADDR        a memory BAR of that function (from a bare run): its
 *                   MMIO must read as all-ones and ignore writes
 *   nodma=BB:DD.F   a function lamina keeps from bus mastering (nodma=
 *                   on lamina's command line): Bus Master Enable cannot
 *                   be set, through CF8/CFC or ECAM; other command bits can
 *   nomsi=BB:DD.F   a function whose MSI/MSI-X lamina hides (nomsi= on
 *                   lamina's command line): bare, it has one; under
 *                   lamina, its capability list (CF8/CFC and ECAM) has none
 *   pciexbar=1      00:00.0 is an Intel host bridge with PCIEXBAR (QEMU's
 *                   q35): bare, writing a new base moves ECAM; under
 *                   lamina, with a function mediated, it is refused
 *   mmiocfg=1       an AMD CPU: under lamina, a write that would change
 *                   MMIO_CFG_BASE_ADDR (MSR C001_0058) raises #GP
 * Every function's first 64 bytes ("# cfg BB:DD.F xx xx ...") and its
 * capability IDs in list order ("# caps BB:DD.F xx ...") are printed so the
 * script can compare them with a bare run. */
#include "acpi.h"
#include "boot.h"
#include "cpu.h"
#include "hc.h"
#include "print.h"
#include "tap.h"
#include "trap.h"
#include "util.h"

const char test_name[] = "pci";
const char *const test_options[] = { "hidden", "bar", "nodma", "nomsi", "pciexbar", "mmiocfg", NULL };

#define PORT_ADDR 0xcf8
#define PORT_DATA 0xcfc

static u32 in32(u16 port)
{
	u32 v;

	__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static u16 in16(u16 port)
{
	u16 v;

	__asm__ volatile("inw %w1, %w0" : "=a"(v) : "Nd"(port));
	return v;
}

static void out32(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %w1" ::"a"(v), "Nd"(port));
}

static void out16(u16 port, u16 v)
{
	__asm__ volatile("outw %w0, %w1" ::"a"(v), "Nd"(port));
}

static u32 bdf_addr(u32 bdf, u32 reg)
{
	return BIT(31) | bdf << 8 | (reg & 0xfc);
}

static u32 cf8_read32(u32 bdf, u32 reg)
{
	out32(PORT_ADDR, bdf_addr(bdf, reg));
	return in32(PORT_DATA);
}

static u8 cf8_read8(u32 bdf, u32 reg)
{
	out32(PORT_ADDR, bdf_addr(bdf, reg));
	return inb(PORT_DATA + (reg & 3));
}

static u16 cf8_read16(u32 bdf, u32 reg)
{
	out32(PORT_ADDR, bdf_addr(bdf, reg));
	return in16(PORT_DATA + (reg & 2));
}

static u32 ecam_base;

static void find_ecam(void)
{
	const u8 *mcfg = acpi_table("MCFG");

	if (mcfg && *(const u32 *)(mcfg + 4) >= 44 + 16) {
		ecam_base = *(const u32 *)(mcfg + 44); /* first allocation, segment 0 */
		kprintf("# ECAM at 0x%x\n", ecam_base);
	} else {
		kprintf("# no MCFG: CF8/CFC only\n");
	}
}

static volatile u32 *ecam_reg(u32 bdf, u32 reg)
{
	return (volatile u32 *)(ecam_base + (bdf << 12) + reg);
}

/* "BB:DD.F" in hex, or ~0 when absent or malformed. */
static u32 ecam_read32(u32 bdf, u32 reg)
{
	return *ecam_reg(bdf, reg);
}

static u32 parse_bdf(const char *s)
{
	char part[5] = { '0', 'x', 0, 0, 0 };
	u64 b, d, f;

	if (!s || strlen(s) != 7 || s[2] != ':' || s[5] != '.')
		return ~0u;
	part[2] = s[0], part[3] = s[1];
	if (!parse_u64(part, &b))
		return ~0u;
	part[2] = s[3], part[3] = s[4];
	if (!parse_u64(part, &d) || d > 31)
		return ~0u;
	part[2] = s[6], part[3] = 0;
	if (!parse_u64(part, &f) || f > 7)
		return ~0u;
	return (u32)(b << 8 | d << 3 | f);
}

/* The lanes of one register read by bytes and words compose the dword. */
static bool lanes_agree(u32 bdf, u32 reg)
{
	u32 d = cf8_read32(bdf, reg);

	for (u32 i = 0; i < 4; i++)
		if (cf8_read8(bdf, reg + i) != (u8)(d >> (8 * i)))
			return false;
	return cf8_read16(bdf, reg) == (u16)d && cf8_read16(bdf, reg + 2) == (u16)(d >> 16);
}

/* Under lamina, accesses that are not naturally aligned: a word at CFD is
 * bytes 1-2 of the register, as the PCI specification has any byte
 * enables within the window; a dword at CFE is bytes 2-3, then whatever
 * ports D00-D01 hold (the window ends at CFF). QEMU's own bridge answers
 * both with 0, so a bare run does not check them. */
static void check_unaligned_ports(u32 bdf)
{
	u32 d = cf8_read32(bdf, 0);
	u32 beyond = in16(0xd00);

	out32(PORT_ADDR, bdf_addr(bdf, 0));
	tap_eq(in16(PORT_DATA + 1), (d >> 8) & 0xffff, "CF8/CFC: a word at CFD is bytes 1-2 of the register");
	out32(PORT_ADDR, bdf_addr(bdf, 0));
	tap_eq(in32(PORT_DATA + 2), d >> 16 | beyond << 16,
	       "CF8/CFC: a dword at CFE is bytes 2-3, then ports D00-D01");
}

/* Under lamina, a mediated function's ECAM page: a word at offset 1 and
 * one across the first dword's end read as the bytes they cover. */
static void check_unaligned_ecam(u32 bdf)
{
	u32 d0 = cf8_read32(bdf, 0), d1 = cf8_read32(bdf, 4);
	volatile u8 *page = (volatile u8 *)ecam_reg(bdf, 0);

	tap_eq(*(volatile u16 *)(page + 1), (d0 >> 8) & 0xffff,
	       "ECAM (mediated): a word at offset 1 is bytes 1-2");
	tap_eq(*(volatile u16 *)(page + 3), d0 >> 24 | (d1 & 0xff) << 8,
	       "ECAM (mediated): a word at offset 3 is bytes 3-4, across two registers");
}

static void dump(u32 bdf)
{
	char line[256];
	size_t n = format(line, sizeof(line), "# cfg %02x:%02x.%x", bdf >> 8,
			     (bdf >> 3) & 0x1f, bdf & 7);

	for (u32 reg = 0; reg < 64; reg += 4) {
		u32 d = cf8_read32(bdf, reg);
		for (u32 i = 0; i < 4; i++)
			n += format(line + n, sizeof(line) - n, " %02x", (d >> (8 * i)) & 0xff);
	}
	kprintf("%s\n", line);
}

#define STATUS_CAP_LIST 0x10
#define MAX_CAPS 48 /* more would be a loop */
#define CAP_MSI 0x05
#define CAP_MSIX 0x11

/* The standard capability list's IDs in order, through CF8/CFC or ECAM;
 * the count, or -1 if the list does not end. */
static int read_caps(u32 bdf, bool ecam, u8 ids[MAX_CAPS])
{
	u32 (*rd)(u32, u32) = ecam ? ecam_read32 : cf8_read32;
	int n = 0;

	if (!(rd(bdf, 4) >> 16 & STATUS_CAP_LIST))
		return 0;
	for (u32 at = rd(bdf, 0x34) & 0xfc; at; n++) {
		if (n == MAX_CAPS || at < 0x40)
			return -1;
		u32 head = rd(bdf, at);
		ids[n] = head & 0xff;
		at = (head >> 8) & 0xfc;
	}
	return n;
}

static bool caps_equal(const u8 *a, int na, const u8 *b, int nb)
{
	return na == nb && (na <= 0 || memcmp(a, b, (size_t)na) == 0);
}

static int dump_caps(u32 bdf, u8 ids[MAX_CAPS])
{
	char line[256];
	int n = read_caps(bdf, false, ids);
	size_t len = format(line, sizeof(line), "# caps %02x:%02x.%x", bdf >> 8,
			       (bdf >> 3) & 0x1f, bdf & 7);

	for (int i = 0; i < n; i++)
		len += format(line + len, sizeof(line) - len, " %02x", ids[i]);
	kprintf("%s%s\n", line, n < 0 ? " (no end)" : "");
	return n;
}

static void check_visible(u32 bdf, u32 *nfuncs, bool *lanes_ok, bool *ecam_ok)
{
	u8 ids[MAX_CAPS], ecam_ids[MAX_CAPS];
	int n;

	(*nfuncs)++;
	dump(bdf);
	n = dump_caps(bdf, ids);
	*ecam_ok &= !ecam_base || caps_equal(ids, n, ecam_ids, read_caps(bdf, true, ecam_ids));
	for (u32 reg = 0; reg < 64; reg += 4) {
		*lanes_ok &= lanes_agree(bdf, reg);
		if (ecam_base)
			*ecam_ok &= *ecam_reg(bdf, reg) == cf8_read32(bdf, reg);
	}
}

static void check_hidden(u32 bdf)
{
	bool all_ones = true, lanes = true, ecam = true;

	for (u32 reg = 0; reg < 256; reg += 4) {
		all_ones &= cf8_read32(bdf, reg) == 0xffffffffu;
		for (u32 i = 0; i < 4; i++)
			lanes &= cf8_read8(bdf, reg + i) == 0xff;
		lanes &= cf8_read16(bdf, reg) == 0xffff && cf8_read16(bdf, reg + 2) == 0xffff;
	}
	if (ecam_base)
		for (u32 reg = 0; reg < 4096; reg += 4)
			ecam &= *ecam_reg(bdf, reg) == 0xffffffffu;
	tap_check(all_ones, "hidden function: every dword of its config space reads all-ones (CF8/CFC)");
	tap_check(lanes, "hidden function: every byte and word lane reads all-ones");
	if (ecam_base)
		tap_check(ecam, "hidden function: all 4 KiB of its ECAM page read all-ones");
	/* Writes vanish: turning memory decoding off and on changes nothing seen. */
	out32(PORT_ADDR, bdf_addr(bdf, 4));
	out16(PORT_DATA, 0);
	tap_eq(cf8_read32(bdf, 4), 0xffffffffu, "hidden function: a write to its command register is not seen");
	out16(PORT_DATA, 7);
}

static void check_bar(u64 bar)
{
	volatile u32 *mmio = (volatile u32 *)(u32)bar;
	bool ones = true;

	for (u32 i = 0; i < 1024; i++)
		ones &= mmio[i] == 0xffffffffu;
	tap_check(ones, "hidden function: its BAR at 0x%x reads all-ones", (u32)bar);
	mmio[0] = 0;
	tap_eq(mmio[0], 0xffffffffu, "hidden function: a write to its BAR is dropped");
}

#define CMD_IO 0x1
#define CMD_MASTER 0x4

static void cf8_write16(u32 bdf, u32 reg, u16 v)
{
	out32(PORT_ADDR, bdf_addr(bdf, reg));
	out16(PORT_DATA + (reg & 2), v);
}

static void cf8_write32(u32 bdf, u32 reg, u32 v)
{
	out32(PORT_ADDR, bdf_addr(bdf, reg));
	out32(PORT_DATA, v);
}

#define PCIEXBAR 0x60
#define PCIEXBAR_NEW 0xc0000000u /* free on QEMU q35 with 512 MiB */
#define PCIEXBAR_LOW_BITS 0xfu   /* enable, length: kept */

static u32 ecam_at(u32 base, u32 bdf, u32 reg)
{
	return *(volatile u32 *)(base + (bdf << 12) + reg);
}

/* The Intel host bridge's PCIEXBAR says where ECAM is. Bare, a new base
 * moves it: 00:00.0 answers there. Under lamina, which traps the hidden
 * function's page at the old base, a write of a new base (through CF8/CFC
 * or ECAM) is refused: PCIEXBAR reads back unchanged, nothing answers at
 * the new base, and the hidden function still reads all-ones at the old
 * one. */
static void check_pciexbar(u32 hidden)
{
	u32 bar = cf8_read32(0, PCIEXBAR), id = cf8_read32(0, 0);
	u32 moved = PCIEXBAR_NEW | (bar & PCIEXBAR_LOW_BITS);

	kprintf("# PCIEXBAR 0x%x\n", bar);
	cf8_write32(0, PCIEXBAR, moved);
	u32 got = cf8_read32(0, PCIEXBAR), there = ecam_at(PCIEXBAR_NEW, 0, 0);
	if (!lamina_present()) {
		tap_eq(got, moved, "bare: PCIEXBAR takes a new base");
		tap_eq(there, id, "bare: ECAM answers at the new base");
		cf8_write32(0, PCIEXBAR, bar);
		tap_eq(ecam_read32(0, 0), id, "bare: ECAM back at its base");
		return;
	}
	tap_eq(got, bar, "PCIEXBAR: a new base written through CF8/CFC is refused");
	tap_check(there != id, "PCIEXBAR: nothing answers at the new base (0x%x)", there);
	*ecam_reg(0, PCIEXBAR) = moved;
	tap_eq(cf8_read32(0, PCIEXBAR), bar, "PCIEXBAR: a new base written through ECAM is refused");
	tap_eq(ecam_read32(0, 0), id, "PCIEXBAR: ECAM still answers at its base");
	if (hidden != ~0u) {
		tap_eq(ecam_read32(hidden, 0), 0xffffffffu,
		       "PCIEXBAR: the hidden function still reads all-ones through ECAM");
		tap_check(ecam_at(PCIEXBAR_NEW, hidden, 0) == 0xffffffffu ||
			  ecam_at(PCIEXBAR_NEW, hidden, 0) == 0,
			  "PCIEXBAR: the hidden function is not found at the new base");
	}
}

#define MSR_MMIO_CFG_BASE 0xc0010058
#define MMIO_CFG_ELSEWHERE 0xe0000021ull /* 256 buses at 0xe0000000, enabled */

/* AMD's MMIO_CFG_BASE_ADDR also says where ECAM is. Under lamina a write
 * that would change it gets #GP; the value it holds may be written back.
 * QEMU's TCG reads 0 from it and drops writes, so bare neither traps. */
static void check_mmio_cfg_base(void)
{
	u64 v = 0, got = ~0ull;

	if (rdmsr_probe(MSR_MMIO_CFG_BASE, &v) != TRAP_NONE) {
		tap_skip("no such MSR", "MMIO_CFG_BASE_ADDR checks");
		return;
	}
	tap_vec(wrmsr_probe(MSR_MMIO_CFG_BASE, v), TRAP_NONE,
		"MMIO_CFG_BASE_ADDR: written back as it is (0x%llx)", v);
	tap_vec(wrmsr_probe(MSR_MMIO_CFG_BASE, MMIO_CFG_ELSEWHERE ^ v),
		lamina_present() ? VEC_GP : TRAP_NONE,
		"MMIO_CFG_BASE_ADDR: a new value %s", lamina_present() ? "raises #GP" : "(bare) does not");
	rdmsr_probe(MSR_MMIO_CFG_BASE, &got);
	tap_eq(got, v, "MMIO_CFG_BASE_ADDR: unchanged");
}

/* Bus Master Enable stays clear whichever way the guest writes it; the
 * I/O space bit, turned off for a moment (the kernel does not use the
 * device), shows that the rest of the register still takes writes. */
static void check_nodma(u32 bdf)
{
	u16 cmd = cf8_read16(bdf, 4);
	bool protect = lamina_present();

	cf8_write16(bdf, 4, (cmd | CMD_MASTER) ^ CMD_IO);
	u16 got = cf8_read16(bdf, 4);
	if (protect)
		tap_eq(got & CMD_MASTER, 0, "nodma: bus mastering stays off after a CF8/CFC write");
	else
		tap_eq(got & CMD_MASTER, CMD_MASTER, "bare: bus mastering can be turned on");
	tap_eq(got & CMD_IO, (cmd ^ CMD_IO) & CMD_IO, "nodma: the other command bits still take writes");
	if (ecam_base) {
		*ecam_reg(bdf, 4) = (*ecam_reg(bdf, 4) & 0xffff) | CMD_MASTER;
		if (protect)
			tap_eq(cf8_read16(bdf, 4) & CMD_MASTER, 0,
			       "nodma: bus mastering stays off after an ECAM write");
	}
	cf8_write16(bdf, 4, cmd);
	tap_eq(cf8_read16(bdf, 4), cmd & (protect ? ~CMD_MASTER : 0xffff),
	       "nodma: the command register restored");
}

/* Bare, the function has MSI or MSI-X; under lamina, neither shows. */
static void check_nomsi(u32 bdf)
{
	u8 ids[MAX_CAPS];
	int n = read_caps(bdf, false, ids);
	bool msi = false;

	if (!tap_check(n >= 0, "nomsi: the capability list ends"))
		return;
	for (int i = 0; i < n; i++)
		msi |= ids[i] == CAP_MSI || ids[i] == CAP_MSIX;
	if (lamina_present())
		tap_check(!msi, "nomsi: no MSI or MSI-X in the list of %u capabilities", n);
	else
		tap_check(msi, "bare: the function has MSI or MSI-X");
}

void test_main(void)
{
	u32 hidden = parse_bdf(boot_opt("hidden"));
	u32 nfuncs = 0;
	bool lanes_ok = true, ecam_ok = true, saw_hidden = false;

	/* Under lamina the guest's CF8 starts at 0 (its reset value), not at
	 * the address lamina last used: the data window leads nowhere. */
	if (lamina_present())
		tap_eq(in32(PORT_DATA), 0xffffffffu,
		       "CF8/CFC: before the first CF8 write, CFC reads all-ones");
	find_ecam();
	/* A CF8 value that is no configuration address reads back (QEMU's and
	 * Bochs's host bridges keep it), and the data window leads nowhere. */
	out32(PORT_ADDR, 0x12345678);
	tap_eq(in32(PORT_ADDR), 0x12345678, "CF8: a non-configuration value reads back");
	tap_eq(in32(PORT_DATA), 0xffffffffu, "CF8/CFC: CFC reads all-ones while CF8's enable bit is clear");
	if (lamina_present())
		check_unaligned_ports(0);
	for (u32 bdf = 0; bdf < 256; bdf++) {
		u32 id = cf8_read32(bdf, 0);
		if (bdf == hidden) {
			saw_hidden = id != 0xffffffffu;
			if (saw_hidden)
				dump(bdf); /* bare: the script learns its BARs */
			continue;
		}
		if ((id & 0xffff) != 0xffff)
			check_visible(bdf, &nfuncs, &lanes_ok, &ecam_ok);
	}
	tap_check(nfuncs > 0, "bus 0 has %u visible functions", nfuncs);
	tap_check(lanes_ok, "CF8/CFC: byte and word lanes agree with dword reads on every function");
	if (ecam_base)
		tap_check(ecam_ok, "ECAM and CF8/CFC agree on every visible function");
	if (hidden == ~0u) {
		tap_skip("no hidden= option", "hidden function checks");
	} else if (lamina_present()) {
		tap_check(!saw_hidden, "the hidden function's ID reads as nothing there");
		check_hidden(hidden);
		if (boot_opt("bar"))
			check_bar(boot_opt_num("bar", 0));
	} else {
		tap_check(saw_hidden, "bare: the function to hide is there");
	}
	if (boot_opt("nodma"))
		check_nodma(parse_bdf(boot_opt("nodma")));
	if (boot_opt("nomsi"))
		check_nomsi(parse_bdf(boot_opt("nomsi")));
	if (boot_opt("nomsi") && ecam_base && lamina_present())
		check_unaligned_ecam(parse_bdf(boot_opt("nomsi")));
	if (boot_opt("pciexbar") && ecam_base)
		check_pciexbar(hidden);
	if (boot_opt("mmiocfg"))
		check_mmio_cfg_base();
	tap_done();
}
