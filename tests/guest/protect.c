/* protect: the guest cannot touch lamina's memory. For a sample of the
 * pages MEMINFO names (first, last, every stride-th), stores of 1, 2, 4
 * and 8 bytes and a REP STOSD over the page, then loads: every load must
 * return all-ones, nothing may fault, memory next to the range must work
 * as usual, and lamina must still be intact (SELFCHECK).
 *
 * Bare, the same accesses on a page of our own show that the accessors
 * themselves work (written values read back).
 *
 * Options: stride=N: sample every N-th page (default 64). uart=PORT:
 * lamina's console port, which the guest puts into states that would
 * swallow lamina's output (divisor latch access, loopback) before a store
 * that lamina logs; the guest's settings must survive and nothing may
 * loop back (the script checks that the lines reached the console).
 * tseg=1: 00:00.0 is QEMU's q35 host bridge, whose ESMRAMC can turn the
 * top of RAM below 4 GiB (lamina's home) into TSEG, unreachable outside
 * SMM: bare it does (the last usable dword reads all-ones), under lamina
 * the write is refused and lamina stays intact. rcba=1: 00:1f.0 is QEMU's
 * ICH9 LPC bridge, whose RCBA lays its 16 KiB of chipset registers over
 * whatever RAM it names: bare over a buffer of ours, under lamina over
 * lamina's home, where the write must be refused. a20=1: the A20 gate
 * closed three ways (port 0x92; keyboard controller command 0xdd; its
 * output port after 0xd1): bare, 0x2100000 then reads 0x2000000; under
 * lamina it stays open (emulators apply the mask to lamina's accesses
 * too). vapic=1: QEMU's kvmvapic told through its option ROM's state to
 * patch a dword: bare a buffer of ours, under lamina lamina's code.
 * pmbase=1: the ACPI PM block (ICH9's PMBASE, or PIIX4's PMBA) moved:
 * bare it moves, under lamina it stays. smram=1: the 440FX's SMRAM
 * opened (D_OPEN): bare it opens, under lamina it stays closed. cmos=1:
 * the CMOS shutdown byte set to resume through 40:67: bare it takes the
 * value, under lamina it stays 0. pam=1: the host bridge's PAM register
 * for 0xf0000-0xfffff (q35's 0x90, the 440FX's 0x59) made to send writes
 * to DRAM, where the reset vector's code is: bare it does, under lamina it
 * stays. hpet=1: the HPET's last timer set to signal by FSB delivery (a
 * memory write of its route's value to its route's address), which QEMU
 * and Bochs allow whatever the timer offers: bare it writes a dword of
 * ours, under lamina, aimed at lamina's code, the enable bit is refused. */
#include "boot.h"
#include "cpu.h"
#include "hc.h"
#include "longmode.h"
#include "print.h"
#include "tap.h"
#include "timer.h"
#include "trap.h"
#include "util.h"

const char test_name[] = "protect";
const char *const test_options[] = { "stride", "uart", "tseg", "rcba", "a20", "vapic", "pmbase",
				      "smram", "cmos", "pam", "hpet", NULL };

#define PAGE 4096u

/* Probed stores and loads of an exact width (8: via 64-bit mode). */
static int store(u32 addr, int width, u64 v)
{
	switch (width) {
	case 1:
		__asm__ volatile(PROBE("movb %b1, (%0)")::"r"(addr), "q"((u8)v) : "memory");
		break;
	case 2:
		__asm__ volatile(PROBE("movw %w1, (%0)")::"r"(addr), "r"((u16)v) : "memory");
		break;
	case 4:
		__asm__ volatile(PROBE("movl %1, (%0)")::"r"(addr), "r"((u32)v) : "memory");
		break;
	default:
		return lm_store64(addr, v);
	}
	return trap_vector;
}

static int load(u32 addr, int width, u64 *v)
{
	u32 x = 0;

	switch (width) {
	case 1:
		__asm__ volatile(PROBE("movzbl (%1), %0") : "+r"(x) : "r"(addr) : "memory");
		break;
	case 2:
		__asm__ volatile(PROBE("movzwl (%1), %0") : "+r"(x) : "r"(addr) : "memory");
		break;
	case 4:
		__asm__ volatile(PROBE("movl (%1), %0") : "+r"(x) : "r"(addr) : "memory");
		break;
	default:
		return lm_load64(addr, v);
	}
	*v = x;
	return trap_vector;
}

static int fill_page(u32 page, u32 pattern)
{
	u32 di = page, cx = PAGE / 4;

	__asm__ volatile(PROBE("rep stosl") : "+D"(di), "+c"(cx) : "a"(pattern) : "memory");
	return trap_vector;
}

/* What one kind of access did over all sampled pages. */
struct tally {
	u32 pages, bad;
	u32 first_bad_addr;
	u64 first_bad_value;
	int first_bad_vec;
};

static void note(struct tally *t, u32 addr, int vec, u64 got, bool good)
{
	if (good)
		return;
	if (!t->bad++) {
		t->first_bad_addr = addr;
		t->first_bad_value = got;
		t->first_bad_vec = vec;
	}
}

static void report(const struct tally *t, const char *what)
{
	tap_check(t->pages && !t->bad, "%s (%u pages)", what, t->pages);
	if (t->bad)
		kprintf("#   %u bad, first at 0x%08x: %s, value 0x%llx\n", t->bad,
			t->first_bad_addr, vector_name(t->first_bad_vec), t->first_bad_value);
}

static const int widths[] = { 1, 2, 4, 8 };
static struct tally t_store[4], t_load[4], t_fill, t_fill_load;

static u64 ones(int width)
{
	return width == 8 ? ~0ull : (1ull << (8 * width)) - 1;
}

/* Each width at its own offset; `expect_ones`: hidden memory, else the
 * stored value must come back. */
static void probe_widths(u32 page, bool expect_ones, bool with8)
{
	for (u32 i = 0; i < ARRAY_SIZE(widths); i++) {
		int w = widths[i];
		u32 addr = page + 0x100 * (i + 1) + 8;
		u64 v = 0x0123456789abcdefull & ones(w), got = 0;
		int vec;

		if (w == 8 && !with8)
			continue;
		vec = store(addr, w, v);
		t_store[i].pages++;
		note(&t_store[i], addr, vec, 0, vec == TRAP_NONE);
		vec = load(addr, w, &got);
		t_load[i].pages++;
		note(&t_load[i], addr, vec, got,
		     vec == TRAP_NONE && got == (expect_ones ? ones(w) : v));
	}
}

/* REP STOSD over the page, then 4-byte loads: all of them on `full`
 * pages, 16 spread over the others. */
static void probe_fill(u32 page, bool expect_ones, bool full)
{
	u32 pattern = 0x5a5aa5a5, step = full ? 4 : PAGE / 16;
	int vec = fill_page(page, pattern);

	t_fill.pages++;
	note(&t_fill, page, vec, 0, vec == TRAP_NONE);
	t_fill_load.pages++;
	for (u32 off = 0; off < PAGE; off += step) {
		u64 got = 0;

		vec = load(page + off, 4, &got);
		note(&t_fill_load, page + off, vec, got,
		     vec == TRAP_NONE && got == (expect_ones ? 0xffffffffu : pattern));
	}
}

static void tally_reset(void)
{
	memset(t_store, 0, sizeof(t_store));
	memset(t_load, 0, sizeof(t_load));
	memset(&t_fill, 0, sizeof(t_fill));
	memset(&t_fill_load, 0, sizeof(t_fill_load));
}

static bool tally_clean(void)
{
	bool clean = !t_fill.bad && !t_fill_load.bad;

	for (u32 i = 0; i < ARRAY_SIZE(widths); i++)
		clean = clean && !t_store[i].bad && !t_load[i].bad;
	return clean;
}

static void report_all(const char *where, const char *expect)
{
	char what[96];

	for (u32 i = 0; i < ARRAY_SIZE(widths); i++) {
		if (!t_store[i].pages) {
			tap_skip("no long mode", "%s: %u-byte stores and loads", where, widths[i]);
			continue;
		}
		format(what, sizeof(what), "%s: %u-byte stores raise nothing", where,
			  widths[i]);
		report(&t_store[i], what);
		format(what, sizeof(what), "%s: %u-byte loads %s", where, widths[i], expect);
		report(&t_load[i], what);
	}
	format(what, sizeof(what), "%s: REP STOSD over a page raises nothing", where);
	report(&t_fill, what);
	format(what, sizeof(what), "%s: loads after REP STOSD %s", where, expect);
	report(&t_fill_load, what);
}

static u8 own_page[PAGE] __aligned(PAGE);

static void check_own_page(void)
{
	probe_widths((u32)own_page, false, lm_available());
	probe_fill((u32)own_page, false, true);
	report_all("own page", "read back what was stored");
}

/* A page next to the range, if the map says it is RAM: it must behave
 * as RAM. Its contents are put back. */
static void check_neighbour(u32 page, const char *where)
{
	static u8 saved[PAGE];

	if (!mmap_covered(page, PAGE, MMAP_AVAILABLE)) {
		tap_skip("not RAM", "the page %s lamina's memory works as RAM", where);
		return;
	}
	memcpy(saved, (void *)page, PAGE);
	tally_reset();
	probe_widths(page, false, lm_available());
	probe_fill(page, false, true);
	memcpy((void *)page, saved, PAGE);
	tap_check(tally_clean(), "the page %s lamina's memory (0x%08x) works as RAM", where,
		  page);
}

static void check_hidden(u32 base, u32 size)
{
	u32 stride = (u32)boot_opt_num("stride", 64), pages = size / PAGE, n = 0, named;
	bool with8 = lm_available();

	if (!stride)
		stride = 1;
	for (u32 i = 0; i < pages; i++) {
		if (i % stride && i != pages - 1)
			continue;
		probe_widths(base + i * PAGE, true, with8);
		probe_fill(base + i * PAGE, true, i == 0);
		n++;
	}
	/* A page in the middle, for the script to find in lamina's log. */
	named = pages > stride ? stride : pages - 1;
	kprintf("# protect: sampled %u of %u pages, every %u-th; page %u is 0x%08x\n", n,
		pages, stride, named, base + named * PAGE);
	report_all("lamina's memory", "return all-ones");
}

#define UART_DLL 0
#define UART_RBR 0
#define UART_DLM 1
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_TEMT 0x40

static void uart_wait_idle(u16 port)
{
	for (u32 i = 0; i < 1000000 && !(inb(port + UART_LSR) & LSR_TEMT); i++)
		cpu_relax();
}

/* A store to `page` of lamina's memory while the guest has lamina's console
 * in the divisor-latch state with a divisor of its own. */
static void check_uart_dlab(u16 port, u32 page)
{
	u8 lcr = inb(port + UART_LCR), dll, dlm, got_lcr, got_dll, got_dlm;

	outb(port + UART_LCR, lcr | LCR_DLAB);
	dll = inb(port + UART_DLL);
	dlm = inb(port + UART_DLM);
	outb(port + UART_DLL, 0x0c); /* 9600 baud */
	outb(port + UART_DLM, 0x00);
	store(page, 4, 0x600d600d);
	got_lcr = inb(port + UART_LCR);
	got_dll = inb(port + UART_DLL);
	got_dlm = inb(port + UART_DLM);
	outb(port + UART_DLL, dll);
	outb(port + UART_DLM, dlm);
	outb(port + UART_LCR, lcr);
	tap_check(got_lcr == (lcr | LCR_DLAB) && got_dll == 0x0c && got_dlm == 0,
		  "uart: lamina's log line left the guest's divisor latch alone "
		  "(LCR %#x, divisor %#x:%#x)", got_lcr, got_dlm, got_dll);
	kprintf("# protect: uart dlab page 0x%08x\n", page);
}

/* The same in loopback: lamina's bytes must not arrive as guest input. */
static void check_uart_loopback(u16 port, u32 page)
{
	u8 mcr = inb(port + UART_MCR), got_mcr, lsr;

	for (u32 i = 0; i < 64 && (inb(port + UART_LSR) & LSR_DR); i++)
		inb(port + UART_RBR);
	outb(port + UART_MCR, mcr | MCR_LOOP);
	store(page, 4, 0x600d600d);
	uart_wait_idle(port); /* anything looped back has arrived */
	got_mcr = inb(port + UART_MCR);
	lsr = inb(port + UART_LSR);
	outb(port + UART_MCR, mcr);
	tap_check(got_mcr == (mcr | MCR_LOOP) && !(lsr & LSR_DR),
		  "uart: lamina's log line neither left loopback nor looped back "
		  "(MCR %#x, LSR %#x)", got_mcr, lsr);
	kprintf("# protect: uart loop page 0x%08x\n", page);
}

/* The guest-readable log names the accesses to lamina's memory but not the
 * guest RIP they came from: that line is on lamina's console only, since
 * it would tell the guest's user space where its kernel lies. */
static void check_log_private(void)
{
	static char text[64 * 1024];
	s32 status;
	u32 n = hc_log_read(0, text, sizeof(text), &status);

	tap_check(status >= 0 && mem_contains(text, n, "lamina's memory at"),
		  "log read: the ring names the accesses to lamina's memory (%u bytes, status %d)",
		  n, status);
	tap_check(!mem_contains(text, n, "rip 0x"), "log read: no guest RIP in the ring");
}

#define LPC_DEV 31 /* 00:1f.0 */

static void cf8_select(u32 devfn, u32 reg)
{
	__asm__ volatile("outl %0, %1" ::"a"(0x80000000u | devfn << 8 | (reg & 0xfc)),
			 "Nd"((u16)0xcf8));
}

static u32 cfg_read32(u32 devfn, u32 reg)
{
	u32 v;

	cf8_select(devfn, reg);
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((u16)0xcfc));
	return v;
}

static void cfg_write32(u32 devfn, u32 reg, u32 v)
{
	cf8_select(devfn, reg);
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"((u16)0xcfc));
}

/* Byte registers of 00:00.0 through CF8/CFC. */
static u8 hb_read8(u32 reg)
{
	cf8_select(0, reg);
	return inb(0xcfc + (reg & 3));
}

static void hb_write8(u32 reg, u8 v)
{
	cf8_select(0, reg);
	outb(0xcfc + (reg & 3), v);
}

static u32 lpc_read32(u32 reg)
{
	return cfg_read32(LPC_DEV << 3, reg);
}

static void lpc_write32(u32 reg, u32 v)
{
	cfg_write32(LPC_DEV << 3, reg, v);
}

#define RCBA 0xf0
#define RCBA_EN 0x1u
#define RCRB_SIZE 0x4000u

static u8 rcba_buffer[RCRB_SIZE] __aligned(RCRB_SIZE);

/* RCBA pointed at `target` (lamina's home under lamina, else our buffer). */
static void check_rcba(u32 target)
{
	volatile u32 *mine = (volatile u32 *)rcba_buffer;
	u32 rcba = lpc_read32(RCBA), got_rcba, got;

	kprintf("# rcba: 0x%08x, pointed at 0x%08x\n", rcba, target);
	*mine = 0x7e5e6000u;
	lpc_write32(RCBA, target | RCBA_EN);
	got_rcba = lpc_read32(RCBA);
	got = *mine;
	lpc_write32(RCBA, rcba);
	if (!lamina_present()) {
		tap_check(got_rcba == (target | RCBA_EN) && got != 0x7e5e6000u,
			  "bare: RCBA lays chipset registers over RAM (RCBA 0x%08x, RAM reads "
			  "0x%08x)", got_rcba, got);
		tap_eq(*mine, 0x7e5e6000u, "bare: the RAM is back with RCBA restored");
	} else {
		tap_eq(got_rcba, rcba, "RCBA: the guest's move over lamina's memory is refused");
	}
}

#define SMRAM 0x9d
#define SMRAM_G_SMRAME 0x08
#define ESMRAMC 0x9e
#define ESMRAMC_TSEG 0x07 /* T_EN, TSEG_SZ 11: the largest (QEMU: 16 MiB) */

/* The last usable dword below 4 GiB, where TSEG would begin to take RAM
 * away from its top. */
static u32 top_usable_dword(void)
{
	u64 top = 0;

	for (u32 i = 0; i < boot.n_mmap; i++) {
		u64 end = boot.mmap[i].base + boot.mmap[i].len;

		if (boot.mmap[i].type == MMAP_AVAILABLE && end <= BIT(32) && end > top)
			top = end;
	}
	return (u32)top - 4;
}

static void check_tseg(void)
{
	u8 smram = hb_read8(SMRAM), esmramc = hb_read8(ESMRAMC);
	volatile u32 *top = (volatile u32 *)top_usable_dword();
	u32 was = *top, got;

	kprintf("# tseg: SMRAM 0x%02x ESMRAMC 0x%02x, top dword at %p\n", smram, esmramc,
		(void *)top);
	*top = 0x7e5e6000u;
	hb_write8(SMRAM, smram | SMRAM_G_SMRAME);
	hb_write8(ESMRAMC, esmramc | ESMRAMC_TSEG);
	got = *top;
	u8 now_smram = hb_read8(SMRAM), now_esmramc = hb_read8(ESMRAMC);
	hb_write8(ESMRAMC, esmramc);
	hb_write8(SMRAM, smram);
	if (!lamina_present()) {
		tap_check(now_esmramc == (esmramc | ESMRAMC_TSEG) && got == 0xffffffffu,
			  "bare: TSEG takes the top of RAM (ESMRAMC 0x%02x, top dword 0x%08x)",
			  now_esmramc, got);
		tap_eq(*top, 0x7e5e6000u, "bare: the top of RAM is back with TSEG off");
	} else {
		tap_check(now_esmramc == esmramc && now_smram == smram,
			  "TSEG: the guest's writes to SMRAM and ESMRAMC are refused "
			  "(0x%02x 0x%02x)", now_smram, now_esmramc);
		tap_eq(got, 0x7e5e6000u, "TSEG: the top of the guest's RAM stays RAM");
	}
	*top = was;
}

/* The ACPI PM block's base: ICH9's PMBASE (00:1f.0) or PIIX4's PMBA
 * (00:01.3), both at 0x40, bit 0 reading 1 (I/O space). Moved, the PM1
 * control register where lamina refuses S3 would be elsewhere. */
#define PMBASE 0x40
#define PIIX4_PM_DEVFN (1 << 3 | 3)

static void check_pmbase(void)
{
	u32 devfn = LPC_DEV << 3, was, got;

	if ((cfg_read32(devfn, 0) & 0xffff) != 0x8086 || !(cfg_read32(devfn, PMBASE) & 1))
		devfn = PIIX4_PM_DEVFN;
	was = cfg_read32(devfn, PMBASE);
	kprintf("# pmbase: %02x.%u 0x%08x\n", devfn >> 3, devfn & 7, was);
	if (!tap_check((cfg_read32(devfn, 0) & 0xffff) == 0x8086 && (was & 1),
		       "pmbase: an ICH9 or PIIX4 PM base register found"))
		return;
	cfg_write32(devfn, PMBASE, was ^ 0x1000u);
	got = cfg_read32(devfn, PMBASE);
	cfg_write32(devfn, PMBASE, was);
	if (!lamina_present())
		tap_eq(got, was ^ 0x1000u, "bare: the PM block moves");
	else
		tap_eq(got, was, "pmbase: the guest's move of the ACPI PM block is refused");
}

/* The 440FX's SMRAM register (0x72): D_OPEN (bit 6) would open the SMI
 * handler's memory at 0xa0000 to the guest. */
#define I440_SMRAM 0x72
#define SMRAM_D_OPEN 0x40

static void check_smram_open(void)
{
	u8 was = hb_read8(I440_SMRAM), got;

	kprintf("# smram: 0x%02x\n", was);
	hb_write8(I440_SMRAM, was | SMRAM_D_OPEN);
	got = hb_read8(I440_SMRAM);
	hb_write8(I440_SMRAM, was);
	if (!lamina_present())
		tap_eq(got, was | SMRAM_D_OPEN, "bare: SMRAM opens (D_OPEN)");
	else
		tap_eq(got, was, "smram: the guest's D_OPEN write is refused");
}

/* PAM0 of the host bridge: bits 5:4 say where reads (4) and writes (5)
 * of 0xf0000-0xfffff go, DRAM or the ROM. With writes to DRAM the guest
 * could put its own code where the CPU starts after a reset or INIT. */
#define Q35_PAM0 0x90
#define I440_PAM0 0x59
#define PAM_HI_WRITE 0x20

static void check_pam(void)
{
	u32 id = cfg_read32(0, 0);
	u32 reg = id == 0x29c08086 ? Q35_PAM0 : id == 0x12378086 ? I440_PAM0 : 0;

	if (!tap_check(reg != 0, "pam: a q35 or 440FX host bridge (0x%08x)", id))
		return;
	u8 was = hb_read8(reg), got;

	kprintf("# pam: PAM0 (0x%x) 0x%02x\n", reg, was);
	hb_write8(reg, was ^ PAM_HI_WRITE);
	got = hb_read8(reg);
	hb_write8(reg, was);
	if (!lamina_present())
		tap_eq(got, was ^ PAM_HI_WRITE, "bare: PAM0's write routing for 0xf0000 changes");
	else
		tap_eq(got, was, "pam: the guest's PAM0 write is refused");
}

#define HPET_BASE 0xfed00000u
#define HPET_CONF 0x10
#define HPET_COUNTER 0xf0
#define HPET_T_CONF(n) (0x100 + 0x20 * (n))
#define HPET_T_CMP(n) (0x108 + 0x20 * (n))
#define HPET_T_FSB(n) (0x110 + 0x20 * (n))
#define HPET_ENABLE 1u
#define HPET_T_INT_ENB BIT(2)
#define HPET_T_FSB_EN BIT(14)
#define FSB_VALUE 0x5a5a5a5au

static volatile u32 hpet_buffer;

static u32 hpet_rd(u32 off)
{
	return *(volatile u32 *)(HPET_BASE + off);
}

static void hpet_wr(u32 off, u32 v)
{
	*(volatile u32 *)(HPET_BASE + off) = v;
}

static void check_hpet_fsb(u32 target)
{
	u32 cap = hpet_rd(0), n = (cap >> 8) & 0x1f; /* the last timer */

	if (!tap_check(cap != 0 && cap != ~0u, "hpet: found at 0x%x (0x%08x)", HPET_BASE, cap) ||
	    !tap_check(timer_init(), "hpet: TSC calibrated for the wait"))
		return;
	u32 conf = hpet_rd(HPET_CONF), tconf = hpet_rd(HPET_T_CONF(n)), got;

	hpet_wr(HPET_T_CONF(n), 0);
	hpet_wr(HPET_T_FSB(n), FSB_VALUE);
	hpet_wr(HPET_T_FSB(n) + 4, target);
	hpet_wr(HPET_T_CONF(n), HPET_T_INT_ENB | HPET_T_FSB_EN);
	got = hpet_rd(HPET_T_CONF(n));
	hpet_wr(HPET_CONF, conf | HPET_ENABLE);
	hpet_wr(HPET_T_CMP(n) + 4, hpet_rd(HPET_COUNTER + 4));
	hpet_wr(HPET_T_CMP(n), hpet_rd(HPET_COUNTER) + 1000);
	udelay(20000);
	hpet_wr(HPET_T_CONF(n), tconf);
	hpet_wr(HPET_CONF, conf);
	kprintf("# hpet: timer %u, FSB delivery toward 0x%08x, its configuration 0x%08x\n", n,
		target, got);
	if (!lamina_present()) {
		tap_eq(*(volatile u32 *)target, FSB_VALUE,
		       "bare: the HPET timer's FSB delivery wrote 0x%x to a dword of ours", FSB_VALUE);
		return;
	}
	tap_eq(got & HPET_T_FSB_EN, 0, "hpet: FSB delivery toward lamina's memory is refused");
	/* Another route with it on: a move of the route elsewhere is dropped. */
	hpet_wr(HPET_T_FSB(n) + 4, 0xfee00000u);
	hpet_wr(HPET_T_CONF(n), HPET_T_FSB_EN);
	hpet_wr(HPET_T_FSB(n) + 4, target);
	got = hpet_rd(HPET_T_FSB(n) + 4);
	hpet_wr(HPET_T_CONF(n), tconf);
	tap_eq(got, 0xfee00000u, "hpet: the route of a timer with FSB delivery on stays in the "
	       "APICs' range");
}

/* The CMOS shutdown byte (RTC index 0x0F): 0x0A there makes the BIOS
 * jump through 40:67 after a reset, outside lamina. Written through 0x70
 * and 0x71 as Linux does, and as a word at 0x70 (index and data). */
#define CMOS_SHUTDOWN 0x0f

static u8 cmos_read(u8 index)
{
	outb(0x70, index);
	return inb(0x71);
}

static void check_cmos_shutdown(void)
{
	u8 was = cmos_read(CMOS_SHUTDOWN), by_byte, by_word;

	kprintf("# cmos shutdown byte: 0x%02x\n", was);
	outb(0x70, CMOS_SHUTDOWN);
	outb(0x71, 0x0a);
	by_byte = cmos_read(CMOS_SHUTDOWN);
	outb(0x71, 0);
	__asm__ volatile("outw %w0, %w1" ::"a"((u16)(0x0b << 8 | CMOS_SHUTDOWN)), "Nd"((u16)0x70));
	by_word = cmos_read(CMOS_SHUTDOWN);
	outb(0x71, 0);
	if (!lamina_present()) {
		tap_eq(by_byte, 0x0a, "bare: the CMOS shutdown byte takes 0x0a");
		if (by_word == 0)
			tap_skip("this RTC takes no word writes (Bochs)",
				 "bare: ... and 0x0b written as a word at 0x70");
		else
			tap_eq(by_word, 0x0b, "bare: ... and 0x0b written as a word at 0x70");
	} else {
		tap_eq(by_byte, 0, "cmos: the guest's 0x0a to the shutdown byte is dropped");
		tap_eq(by_word, 0, "cmos: ... and its 0x0b written as a word at 0x70");
	}
	u8 other = cmos_read(0x3e), got;
	outb(0x71, (u8)~other);
	got = cmos_read(0x3e);
	outb(0x71, other);
	tap_eq(got, (u8)~other, "cmos: other bytes still take the guest's writes (0x3e)");
}

static void kbc_wait_input_empty(void)
{
	for (u32 i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
		cpu_relax();
}

static const char *const a20_way[] = { "port 0x92", "keyboard command 0xdd",
				       "keyboard output port" };

static void a20_set(u32 way, bool open)
{
	u8 v;

	switch (way) {
	case 0:
		v = inb(0x92) & ~0x01; /* bit 0 would reset the machine */
		outb(0x92, open ? (v | 0x02) : (v & ~0x02));
		break;
	case 1:
		kbc_wait_input_empty();
		outb(0x64, open ? 0xdf : 0xdd);
		kbc_wait_input_empty();
		break;
	default:
		kbc_wait_input_empty();
		outb(0x64, 0xd1);
		kbc_wait_input_empty();
		outb(0x60, open ? 0x03 : 0x01); /* bit 0: keep the system out of reset */
		kbc_wait_input_empty();
	}
}

static void check_a20(void)
{
	volatile u32 *lo = (volatile u32 *)0x2000000u, *hi = (volatile u32 *)0x2100000u;

	for (u32 way = 0; way < ARRAY_SIZE(a20_way); way++) {
		u32 got;

		*lo = 0x11111111u;
		*hi = 0x22222222u;
		a20_set(way, false);
		got = *hi;
		a20_set(way, true);
		if (lamina_present())
			tap_eq(got, 0x22222222u, "A20 (%s): the gate stays open", a20_way[way]);
		else
			tap_eq(got, 0x11111111u, "bare: A20 closed (%s): 1 MiB up reads the same",
			       a20_way[way]);
		tap_eq(*hi, 0x22222222u, "A20 (%s): open afterwards", a20_way[way]);
	}
}

/* QEMU's kvmvapic option ROM keeps this state in guest RAM; an 8-bit
 * write to port 0x7e makes QEMU apply "fixups" from it: add (vaddr's
 * offset) to the dword at each listed address. */
struct vapic_rom_state {
	char signature[8]; /* "kvm aPiC" */
	u32 vaddr, fixup_start, fixup_end, vapic_vaddr, vapic_size, vcpu_shift, real_tpr_addr;
} __attribute__((packed));

static volatile u32 vapic_fixup, vapic_buffer;

static void check_vapic(u32 target)
{
	volatile struct vapic_rom_state *st = NULL;
	u32 before = 0;

	for (u32 a = 0xc0000; a < 0x100000 && !st; a += 16)
		for (u32 i = 0; i < 16; i++)
			if (!memcmp((const void *)(a + i), "kvm aPiC", 8))
				st = (volatile struct vapic_rom_state *)(a + i);
	if (!tap_check(st != NULL, "vapic: found the kvmvapic option ROM's state"))
		return;
	/* One fixup: target + 0x1000, the ROM's offset from vaddr. */
	st->vaddr = (u32)st - 0x1000;
	st->fixup_start = (u32)&vapic_fixup - 0x1000;
	st->fixup_end = st->fixup_start + 4;
	vapic_fixup = target - (u32)st;
	if (!lamina_present())
		before = *(volatile u32 *)target;
	outb(0x7e, 0);
	if (!lamina_present())
		tap_eq(*(volatile u32 *)target, before + 0x1000,
		       "bare: an OUT to port 0x7e made QEMU add 0x1000 to a dword of ours");
	/* Under lamina: the self-check at the end finds its code intact. */
	kprintf("# vapic: patched toward 0x%08x\n", target);
}

void test_main(void)
{
	struct hc_regs check = { .eax = LAMINA_HC_SELFCHECK };
	u64 base = 0, size = 0;
	bool ok;

	check_own_page();
	if (boot_opt("tseg"))
		check_tseg();
	if (boot_opt("rcba") && !lamina_present())
		check_rcba((u32)rcba_buffer);
	if (boot_opt("a20"))
		check_a20();
	if (boot_opt("pmbase"))
		check_pmbase();
	if (boot_opt("smram"))
		check_smram_open();
	if (boot_opt("pam"))
		check_pam();
	if (boot_opt("cmos"))
		check_cmos_shutdown();
	if (boot_opt("vapic") && !lamina_present())
		check_vapic((u32)&vapic_buffer);
	if (boot_opt("hpet") && !lamina_present())
		check_hpet_fsb((u32)&hpet_buffer);
	if (!lamina_present()) {
		tap_skip("bare", "stores to lamina's memory");
		return;
	}
	ok = hc_meminfo(&base, &size);
	kprintf("# meminfo: %llx-%llx\n", base, base + size - 1);
	/* Paging is off: only the first 4 GiB are in reach. */
	if (!tap_check(ok && size && !(base % PAGE) && !(size % PAGE) && base + size <= BIT(32),
		       "meminfo: a page-aligned range below 4 GiB"))
		return;
	if (boot_opt("rcba"))
		check_rcba((u32)base);
	if (boot_opt("vapic"))
		check_vapic((u32)base + 0x2000); /* lamina's code */
	if (boot_opt("hpet"))
		check_hpet_fsb((u32)base + 0x3000); /* lamina's code */
	if (boot_opt("uart") && size >= 4 * PAGE) {
		u16 port = (u16)boot_opt_num("uart", 0);

		/* Pages 1 and 2: not yet logged (check_hidden comes next). */
		check_uart_dlab(port, (u32)base + PAGE);
		check_uart_loopback(port, (u32)base + 2 * PAGE);
	}
	tally_reset();
	check_hidden((u32)base, (u32)size);
	check_neighbour((u32)base - PAGE, "below");
	if (base + size < BIT(32))
		check_neighbour((u32)(base + size), "above");
	check_log_private();
	hc_call(&check);
	tap_check(check.eax == 0 && check.ebx == 1, "selfcheck: lamina intact (status %d, EBX %u)",
		  hc_status(&check), check.ebx);
}
