/* mmio: lamina's MMIO emulator against the CPU. With lamina's option
 * mmiotest=<gpa>, lamina traps that page ("the page") and serves it
 * itself as memory. This kernel runs every instruction form the emulator
 * executes (include/x86/emulate.h) in 16-, 32- and 64-bit code, each a
 * number of times with generated operands (lib/mmio_gen.h), once on RAM
 * and once on the page, from the same bytes and registers, and compares
 * everything: the registers, every RFLAGS bit the instruction defines,
 * an exception if any, the bytes around the page's edges after each case
 * (the whole window after each form), and the accessed and dirty bits of
 * the window's page-table entries. The CPU is the reference. An emulator
 * that steps RIP wrongly lands in a strip that shows (lib/snippet.S); in
 * 32- and 64-bit code longer instructions are fetched from two pages.
 *
 * The instruction's memory operand lies in a window of three pages,
 * [RAM before][page][RAM after], so that accesses and REP strings cross
 * between RAM and the page. In RAM it is a twin area of our own; on the
 * page, the page and its physical neighbours. What the window is:
 * - 32- and 64-bit code: paging maps the window's linear addresses
 *   (WIN_LO, and WIN_HI in 64-bit code) to the twin or to the page, so
 *   that both runs have the same instruction and registers.
 * - 16-bit code: 16-bit protected mode, paging off; the bases of the data
 *   segments point into the twin's 64 KiB area or the page's. (Not real
 *   mode: that would need the page below 1 MiB and real-mode exception
 *   handling of our own; the emulator's 16-bit paths are the same.)
 * Under lamina, each case that touches the page must also have exited to
 * lamina (EXIT_COUNT of nested faults), and none in RAM. Bare, the page is
 * plain RAM and everything matches: that shows the harness is sound.
 *
 * Options:
 *   page=GPA   the page (lamina's mmiotest=): the 64 KiB from 8 KiB below
 *              it must be RAM that nothing else uses
 *   cases=N    cases per form and size (default 8)
 *   verbose    print each case's bytes before running it
 *   tsc_back=1 run the flood of refused stores (check_warning_flood) with
 *              the TSC written back to 0, before lamina's boot: its rate
 *              limit must hold all the same (Bochs emulates TSC writes) */
#include "boot.h"
#include "cpu.h"
#include "hc.h"
#include "longmode.h"
#include "mmio_gen.h"
#include "print.h"
#include "tap.h"
#include "timer.h"
#include "trap.h"
#include "util.h"

const char test_name[] = "mmio";
const char *const test_options[] = { "page", "cases", "verbose", "stale_dr6", "tsc_back", NULL };

#define PAGE 4096u
#define AREA 0x10000u /* what the 16-bit segments cover; the window at 0x1000 */
#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)
#define PTE_AD (BIT(5) | BIT(6)) /* accessed, dirty */

/* Where the window starts, physically: in RAM (the twin), and below the page. */
static u32 twin, trapped;
static u8 twin_area[AREA] __aligned(PAGE);
static u8 test_stack[PAGE] __aligned(16);
static u32 n_cases = 8;
static bool verbose;

/* Page tables that identity-map the low 4 GiB but for the window. */
static u32 pd32[1024] __aligned(PAGE), pt32[1024] __aligned(PAGE);
static u64 pml4[512] __aligned(PAGE), pdpt_lo[512] __aligned(PAGE);
static u64 pd_lo[4][512] __aligned(PAGE), pt_lo[512] __aligned(PAGE);
static u64 pdpt_hi[512] __aligned(PAGE), pd_hi[512] __aligned(PAGE), pt_hi[512] __aligned(PAGE);

static void build_tables(void)
{
	for (u32 i = 0; i < 1024; i++)
		pd32[i] = i << 22 | PTE_P | PTE_RW | PTE_PS;
	pd32[WIN_LO >> 22] = (u32)pt32 | PTE_P | PTE_RW;
	for (u32 i = 0; i < 4; i++) {
		pdpt_lo[i] = (u32)pd_lo[i] | PTE_P | PTE_RW;
		for (u32 j = 0; j < 512; j++)
			pd_lo[i][j] = (u64)(i * 512 + j) << 21 | PTE_P | PTE_RW | PTE_PS;
	}
	pd_lo[WIN_LO >> 30][(WIN_LO >> 21) & 511] = (u32)pt_lo | PTE_P | PTE_RW;
	pml4[0] = (u32)pdpt_lo | PTE_P | PTE_RW;
	pml4[(WIN_HI >> 39) & 511] = (u32)pdpt_hi | PTE_P | PTE_RW;
	pdpt_hi[(WIN_HI >> 30) & 511] = (u32)pd_hi | PTE_P | PTE_RW;
	pd_hi[(WIN_HI >> 21) & 511] = (u32)pt_hi | PTE_P | PTE_RW;
}

static void map_window(u32 w0)
{
	for (u32 i = 0; i < WIN_SIZE / PAGE; i++) {
		pt32[i] = (w0 + i * PAGE) | PTE_P | PTE_RW;
		pt_lo[i] = pt_hi[i] = pt32[i];
	}
}

/* REP MOVSD: on the page, one exit per 1024 dwords, not one per access. */
static void copy_dwords(void *dst, const void *src, u32 bytes)
{
	u32 n = bytes / 4;

	__asm__ volatile("cld; rep movsl" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static void win_write(u32 w0, u32 wo, const void *src, u32 n)
{
	copy_dwords(phys(w0 + wo), src, n);
}

static void win_read(u32 w0, u32 wo, void *dst, u32 n)
{
	copy_dwords(dst, phys(w0 + wo), n);
}

static u64 nested_exits(void)
{
	u64 n = 0;

	if (lamina_present())
		hc_exit_count(0, LAMINA_EXIT_NESTED_FAULT, &n);
	return n;
}

/* What one run did. */
struct outcome {
	struct snip_regs regs;
	u8 hot[HOT_RANGES][HOT_LEN];
	u32 ad[WIN_SIZE / PAGE]; /* A/D bits of each window page's PTEs */
	int vec;
	u64 exits;
};

/* The accessed and dirty bits of the window's PTEs (one byte for each
 * alias), which lamina sets itself for what it emulates. */
static void window_ad(const struct mode *md, u32 *ad)
{
	for (u32 i = 0; i < WIN_SIZE / PAGE; i++)
		ad[i] = md->snip == SNIP_32 ? pt32[i] & PTE_AD
			: md->snip == SNIP_64 ? (u32)((pt_lo[i] & PTE_AD) | (pt_hi[i] & PTE_AD) << 8)
			: 0;
}

static void run_on(const struct mode *md, u32 w0, const struct mcase *c, struct outcome *o)
{
	struct snip_env env = { 0 };
	u32 area = w0 - WIN_PAGE;
	u64 e0;

	for (u32 h = 0; h < HOT_RANGES; h++)
		win_write(w0, hot_start(h), c->hot[h], HOT_LEN);
	map_window(w0);
	for (u32 s = 0; s < 6; s++)
		env.seg_base[s] = md->snip == SNIP_16 ? (u32)(area + md->seg_base[s])
						       : md->seg_base[s];
	env.cr3 = md->snip == SNIP_32 ? (u32)pd32 : md->snip == SNIP_64 ? (u32)pml4 : 0;
	o->regs = c->in;
	e0 = nested_exits();
	o->vec = snip_run(md->snip, &env, c->code, c->len, &o->regs);
	o->exits = nested_exits() - e0;
	window_ad(md, o->ad);
	for (u32 h = 0; h < HOT_RANGES; h++)
		win_read(w0, hot_start(h), o->hot[h], HOT_LEN);
}

/* The cases of one TAP line. */
struct group {
	const struct mode *md;
	struct rnd *r;
	char name[64];
	u32 cases, bad, unmade, no_exit;
	u32 ud_in_ram; /* cases the CPU itself refused (#UD) */
	bool undoc;    /* an undocumented form: the CPU may refuse it */
};

/* Per mode: every case that touches the page must exit to lamina, and
 * none may in RAM. */
static struct {
	u32 groups, cases, no_exit;
	u64 exits, ram_exits;
	char first_no_exit[64];
} tally;

/* Scratch, and the first failing case of a group, shown after its line. */
static struct outcome ram, page, bad_ram, bad_page;
static struct mcase bad_case;
static u8 win_ram[WIN_SIZE], win_page[WIN_SIZE];

static const char *const reg_names[2][16] = {
	{ "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" },
	{ "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" },
};

static bool outcomes_match(const struct mode *md, const struct mcase *c,
			   const struct outcome *a, const struct outcome *b)
{
	if (a->vec != TRAP_NONE || b->vec != TRAP_NONE)
		return false;
	for (u32 i = 0; i < md->nregs; i++)
		if (a->regs.gpr[i] != b->regs.gpr[i])
			return false;
	if ((a->regs.rflags ^ b->regs.rflags) & c->flags_mask)
		return false;
	return memcmp(a->ad, b->ad, sizeof(a->ad)) == 0 &&
	       memcmp(a->hot, b->hot, sizeof(a->hot)) == 0;
}

static void print_code(const char *what, const struct mcase *c)
{
	char hex[3 * X86_MAX_INSN_LEN + 1];
	u32 n = 0;

	for (u32 i = 0; i < c->len; i++)
		n += format(hex + n, sizeof(hex) - n, " %02x", c->code[i]);
	kprintf("#   %s:%s\n", what, hex);
}

/* A whole window of random bytes, the same in both places. */
static void sync_window(struct rnd *r)
{
	for (u32 i = 0; i < WIN_SIZE; i += 8) {
		u64 v = rnd64(r);

		memcpy(win_ram + i, &v, 8);
	}
	win_write(twin, 0, win_ram, WIN_SIZE);
	win_write(trapped, 0, win_ram, WIN_SIZE);
}

/* The first window offset where the two differ, WIN_SIZE if none. */
static u32 window_diff(void)
{
	win_read(twin, 0, win_ram, WIN_SIZE);
	win_read(trapped, 0, win_page, WIN_SIZE);
	for (u32 i = 0; i < WIN_SIZE; i++)
		if (win_ram[i] != win_page[i])
			return i;
	return WIN_SIZE;
}

static void group_begin(struct group *g, const struct mode *md, struct rnd *r,
			const char *name)
{
	memset(g, 0, sizeof(*g));
	g->md = md;
	g->r = r;
	format(g->name, sizeof(g->name), "%s", name);
	sync_window(r);
}

static void group_case(struct group *g, const struct mcase *c)
{
	if (verbose)
		print_code(g->name, c);
	run_on(g->md, twin, c, &ram);
	run_on(g->md, trapped, c, &page);
	g->cases++;
	g->ud_in_ram += ram.vec == VEC_UD;
	tally.exits += page.exits;
	tally.ram_exits += ram.exits;
	if (lamina_present() && c->touches && !page.exits) {
		if (!tally.no_exit++)
			format(tally.first_no_exit, sizeof(tally.first_no_exit), "%s", g->name);
		g->no_exit++;
	}
	if (outcomes_match(g->md, c, &ram, &page) || g->bad++)
		return;
	bad_case = *c;
	bad_ram = ram;
	bad_page = page;
}

static void gen_and_run(struct group *g, const struct form *f, u32 size,
			const struct gen_opts *o)
{
	static struct mcase c;

	if (mmio_gen_case(g->md, f, size, o, g->r, &c))
		group_case(g, &c);
	else
		g->unmade++;
}

static void show_regs(const struct mode *md)
{
	const char *const *names = reg_names[md->nregs == 16];
	const struct snip_regs *in = &bad_case.in;

	for (u32 i = 0; i < md->nregs; i += 4)
		kprintf("#   in:  %s=%llx %s=%llx %s=%llx %s=%llx\n", names[i], in->gpr[i],
			names[i + 1], in->gpr[i + 1], names[i + 2], in->gpr[i + 2], names[i + 3],
			in->gpr[i + 3]);
	for (u32 i = 0; i < md->nregs; i++)
		if (bad_ram.regs.gpr[i] != bad_page.regs.gpr[i])
			kprintf("#   %s: 0x%llx on the page, 0x%llx in RAM\n", names[i],
				bad_page.regs.gpr[i], bad_ram.regs.gpr[i]);
	if ((bad_ram.regs.rflags ^ bad_page.regs.rflags) & bad_case.flags_mask)
		kprintf("#   flags: 0x%llx on the page, 0x%llx in RAM (in 0x%llx, compared 0x%llx)\n",
			bad_page.regs.rflags, bad_ram.regs.rflags, bad_case.in.rflags,
			bad_case.flags_mask);
}

static void show_bytes(void)
{
	u32 shown = 0;

	for (u32 h = 0; h < HOT_RANGES; h++)
		for (u32 i = 0; i < HOT_LEN && shown < 8; i++) {
			u32 wo = hot_start(h) + i;

			if (bad_ram.hot[h][i] == bad_page.hot[h][i])
				continue;
			kprintf("#   byte at page%c0x%03x: 0x%02x on the page, 0x%02x in RAM (was 0x%02x)\n",
				wo < WIN_PAGE ? '-' : '+',
				wo < WIN_PAGE ? WIN_PAGE - wo : wo - WIN_PAGE, bad_page.hot[h][i],
				bad_ram.hot[h][i], bad_case.hot[h][i]);
			shown++;
		}
}

static void show_failure(const struct group *g)
{
	kprintf("#   %u of %u cases differ; the first:\n", g->bad, g->cases);
	print_code("bytes", &bad_case);
	show_regs(g->md);
	if (bad_ram.vec != TRAP_NONE)
		kprintf("#   in RAM it raised %s (a fault of the test itself)\n",
			vector_name(bad_ram.vec));
	if (bad_page.vec != TRAP_NONE)
		kprintf("#   on the page it raised %s\n", vector_name(bad_page.vec));
	for (u32 i = 0; i < WIN_SIZE / PAGE; i++)
		if (bad_ram.ad[i] != bad_page.ad[i])
			kprintf("#   A/D bits of the PTEs of window page %u: 0x%x on the page, "
				"0x%x in RAM\n", i, bad_page.ad[i], bad_ram.ad[i]);
	show_bytes();
}

static void group_end(struct group *g)
{
	u32 diff = window_diff();

	if (g->undoc && g->cases && g->ud_in_ram == g->cases) {
		tap_skip("this CPU raises #UD for it", "%s: %s", g->md->name, g->name);
		return;
	}
	tap_check(g->cases && !g->bad && !g->unmade && diff == WIN_SIZE, "%s: %s", g->md->name,
		  g->name);
	if (g->bad)
		show_failure(g);
	if (g->unmade)
		kprintf("#   %u cases could not be made\n", g->unmade);
	if (diff != WIN_SIZE)
		kprintf("#   afterwards the window differs at page%c0x%03x: 0x%02x on the page, "
			"0x%02x in RAM\n", diff < WIN_PAGE ? '-' : '+',
			diff < WIN_PAGE ? WIN_PAGE - diff : diff - WIN_PAGE, win_page[diff],
			win_ram[diff]);
	tally.groups++;
	tally.cases += g->cases;
}

static const struct form *find_form(const char *name)
{
	const struct form *f;

	for (u32 i = 0; (f = mmio_form(i)); i++)
		if (strcmp(f->name, name) == 0)
			return f;
	tap_check(false, "mmio: no form '%s'", name);
	return NULL;
}

static const struct gen_opts any = { .tmpl = -1, .seg = -1 };

/* One line per form and operand size. */
static void form_groups(const struct mode *md, struct rnd *r)
{
	const struct form *f;
	struct group g;
	char name[48];

	for (u32 i = 0; (f = mmio_form(i)); i++) {
		if (!form_in_mode(f, md))
			continue;
		for (u32 size = 1; size <= 8; size *= 2) {
			if (!(form_sizes(f, md) & BIT(size)))
				continue;
			form_name(f, size, name, sizeof(name));
			group_begin(&g, md, r, name);
			g.undoc = f->flags & F_UNDOC;
			for (u32 k = 0; k < n_cases; k++)
				gen_and_run(&g, f, size, &any);
			group_end(&g);
		}
	}
}

/* Every ModRM/SIB form of both address sizes, with a load and a
 * read-modify-write each. */
static void addressing_groups(const struct mode *md, struct rnd *r)
{
	const struct form *load = find_form("mov r#, r/m#"), *rmw = find_form("add r/m#, r#");
	u8 sizes[2] = { md->adsize, md->adsize67 };
	struct x86_mem m;
	struct group g;
	char name[48];

	for (u32 a = 0; a < 2; a++) {
		struct gen_opts o = { .adsize = sizes[a], .seg = -1 };

		format(name, sizeof(name), "addressing: %u-bit forms%s", sizes[a] * 8,
			  a ? " (67)" : "");
		group_begin(&g, md, r, name);
		for (o.tmpl = 0; mmio_addr_template(md, sizes[a], o.tmpl, &m); o.tmpl++) {
			gen_and_run(&g, load, md->opsize, &o);
			gen_and_run(&g, rmw, md->opsize, &o);
		}
		group_end(&g);
	}
}

/* Each segment override on loads, stores, a read-modify-write and the
 * string sources. */
static void segment_group(const struct mode *md, struct rnd *r)
{
	static const char *const names[] = { "mov r#, r/m#", "mov r/m#, r#", "add r/m#, r#",
					     "lods$", "rep movs$" };
	struct group g;

	group_begin(&g, md, r, "segment overrides");
	for (int s = X86_ES; s <= X86_GS; s++) {
		struct gen_opts o = { .tmpl = -1, .seg = s };

		if (s == X86_CS && md->x86 == X86_MODE_16)
			continue; /* CS is the runner's */
		for (u32 i = 0; i < ARRAY_SIZE(names); i++) {
			const struct form *f = find_form(names[i]);

			/* CS cannot be written through (string stores go to ES). */
			if (s != X86_CS || !(f->flags & F_WMEM) || f->kind == K_STR)
				gen_and_run(&g, f, md->opsize, &o);
		}
	}
	group_end(&g);
}

/* Accesses with bytes on both sides of one of the page's edges. */
static void straddle_group(const struct mode *md, struct rnd *r)
{
	static const char *const names[] = {
		"mov r#, r/m#", "mov r/m#, r#", "mov r/m#, imm%", "add r/m#, r#", "sub r#, r/m#",
		"cmp r/m#, imm8", "xchg r/m#, r#", "movzx r#, r/m16", "movsx r#, r/m16",
		"test r/m#, imm%", "btc r/m#, imm8", "movs$", "stos$", "lods$",
	};
	struct gen_opts o = { .tmpl = -1, .seg = -1, .straddle = true };
	struct group g;

	group_begin(&g, md, r, "accesses straddling the page's edges");
	for (u32 i = 0; i < ARRAY_SIZE(names); i++) {
		const struct form *f = find_form(names[i]);

		for (u32 size = 2; size <= 8; size *= 2)
			if (form_sizes(f, md) & BIT(size)) {
				gen_and_run(&g, f, size, &o);
				gen_and_run(&g, f, size, &o);
			}
	}
	group_end(&g);
}

/* LOCK on every form that allows it, at a random size. */
static void lock_group(const struct mode *md, struct rnd *r)
{
	struct gen_opts o = { .tmpl = -1, .seg = -1, .lock = true };
	const struct form *f;
	struct group g;

	group_begin(&g, md, r, "lock prefix on read-modify-write forms");
	for (u32 i = 0; (f = mmio_form(i)); i++) {
		u32 sizes = form_sizes(f, md), size;

		if (!(f->flags & F_LOCK) || !form_in_mode(f, md))
			continue;
		do
			size = 1u << rnd(r, 4);
		while (!(sizes & BIT(size)));
		gen_and_run(&g, f, size, &o);
	}
	group_end(&g);
}

static void run_mode(const struct mode *md, struct rnd *r)
{
	u64 t0 = time_us();

	memset(&tally, 0, sizeof(tally));
	addressing_groups(md, r);
	segment_group(md, r);
	straddle_group(md, r);
	lock_group(md, r);
	form_groups(md, r);
	if (!lamina_present())
		tap_skip("bare: the page is RAM", "%s: each case that touches the page exits to lamina",
			 md->name);
	else if (!tap_check(!tally.no_exit && !tally.ram_exits,
			    "%s: each case that touches the page exited to lamina, none in RAM "
			    "(%u cases, %llu exits)", md->name, tally.cases, tally.exits))
		kprintf("#   %u did not, the first in '%s'; %llu exits in RAM\n", tally.no_exit,
			tally.first_no_exit, tally.ram_exits);
	kprintf("# %s: %u groups, %u cases in %llu ms\n", md->name, tally.groups, tally.cases,
		(time_us() - t0) / 1000);
}

extern const u8 __image_start[], __image_end[];

static bool overlaps(u32 a, u32 alen, u32 b, u32 blen)
{
	return a < b + blen && b < a + alen;
}

/* The page's 64 KiB area must be RAM that neither we nor a module use. */
static bool area_free(u32 lo)
{
	if (!mmap_covered(lo, AREA, MMAP_AVAILABLE) ||
	    overlaps(lo, AREA, (u32)__image_start, (u32)(__image_end - __image_start)))
		return false;
	for (u32 i = 0; i < boot.n_mods; i++)
		if (overlaps(lo, AREA, boot.mods[i].start, boot.mods[i].end - boot.mods[i].start))
			return false;
	return true;
}

static bool setup(u32 *page_addr)
{
	u64 p = boot_opt_num("page", 0);

	if (!tap_check(p >= 2 * PAGE && !(p % PAGE) && p + AREA < BIT(32),
		       "page=0x%llx: a page-aligned address below 4 GiB", p))
		return false;
	if (!tap_check(area_free((u32)p - 2 * PAGE),
		       "the 64 KiB from 0x%llx are RAM nothing else uses", p - 2 * PAGE))
		return false;
	trapped = (u32)p - PAGE;
	twin = (u32)twin_area + PAGE;
	*page_addr = (u32)p;
	return true;
}

/* Under lamina the page is trapped and starts out zero; anywhere, it
 * keeps what REP MOVSD (which the kernel uses to fill and read it) writes,
 * as single loads see. */
static void check_page(u32 p)
{
	static u32 buf[PAGE / 4];
	u32 first, bad = 0, nonzero = 0;
	u64 e0;

	if (lamina_present()) {
		e0 = nested_exits();
		first = mmio_read32(p);
		tap_check(nested_exits() > e0, "a load from the page at 0x%x exits to lamina", p);
		copy_dwords(buf, phys(p), PAGE);
		for (u32 i = 0; i < PAGE / 4; i++)
			nonzero += buf[i] != 0;
		tap_check(!first && !nonzero, "the page reads as zeros at first (%u dwords not)",
			  nonzero);
	} else {
		tap_skip("bare: the page is RAM", "a load from the page exits to lamina");
	}
	for (u32 i = 0; i < PAGE / 4; i++)
		buf[i] = i * 0x9e3779b9u;
	copy_dwords(phys(p), buf, PAGE);
	for (u32 off = 0; off < PAGE; off += 4 * 61)
		bad += mmio_read32(p + off) != buf[off / 4];
	tap_check(!bad, "the page keeps what REP MOVSD writes (%u loads differ)", bad);
}

/* 64-bit: MOVSB from the page to a non-canonical address raises #GP,
 * as the CPU does, and writes nothing where the address's low 48 bits
 * point (the window's first byte). */
static void check_noncanonical(void)
{
	static const u8 movsb[] = { 0xa4 };
	struct snip_env env = { .cr3 = (u32)pml4 };
	struct snip_regs regs = { .rflags = 0 };
	volatile u8 *alias = phys(trapped);
	u8 was;

	map_window(trapped);
	*alias = (u8)~mmio_read32(trapped + WIN_PAGE);
	was = *alias;
	regs.gpr[X86_RSI] = WIN_LO + WIN_PAGE;
	regs.gpr[X86_RDI] = BIT(48) | WIN_LO;
	regs.gpr[X86_RSP] = mmio_modes[2].sp;
	tap_vec(snip_run(SNIP_64, &env, movsb, sizeof(movsb), &regs), VEC_GP,
		"mmio64: MOVSB from the page to a non-canonical address raises #GP");
	tap_eq(*alias, was, "mmio64: and stores nothing where its low 48 bits point");
}

/* The emulated access's other operand goes through the guest's page
 * tables as the CPU's would: here MOVS from the page, and INS from port
 * 0xcfc (lamina intercepts the PCI configuration ports), into RAM whose
 * mapping faults. 32-bit paging (snip's), the window on the page: a
 * reserved bit (bit 21 of a 4 MiB PDE) gives #PF with RSVD; a user page
 * under SMAP gives #PF for a supervisor store; a 4-byte store straddling
 * into a not-present page gives #PF and writes nothing before it. Bare,
 * the CPU does the same. */
#define PTE_US BIT(2)
#define PF_P BIT(0)
#define PF_W BIT(1)
#define PF_RSVD BIT(3)
#define RSVD_PDE ((WIN_LO >> 22) + 1) /* a 4 MiB page next to the window */
#define CR4_SMAP BIT(21)
#define CPUID7_EBX_SMAP BIT(20)

/* Bare on QEMU's TCG (CPUID 0x40000000 says so). */
static bool bare_tcg(void)
{
	struct cpuid_regs r;

	if (lamina_present() || !(cpuid(1).ecx & BIT(31)))
		return false;
	r = cpuid(0x40000000);
	return r.ebx == 0x54474354 && r.ecx == 0x43544743 && r.edx == 0x47435447;
}

static const u8 movsb[] = { 0xa4 }, movsd[] = { 0xa5 }, insb[] = { 0x6c }, insd[] = { 0x6d };

/* Runs a one-byte instruction in 32-bit code on pd32 with ESI at the
 * page, EDI at dst and DX = 0xcfc; checks #PF with error code err, and
 * that the 4 bytes at physical `keep` stay. */
static void fault_case(const u8 *code, u32 dst, u32 err, u32 keep, const char *what)
{
	struct snip_env env = { .cr3 = (u32)pd32 };
	struct snip_regs regs = { .rflags = 0 };
	volatile u32 *k = phys(keep);
	u32 was;

	*k = ~*k;
	was = *k;
	regs.gpr[X86_RSI] = WIN_LO + WIN_PAGE;
	regs.gpr[X86_RDI] = dst;
	regs.gpr[X86_RDX] = 0xcfc;
	regs.gpr[X86_RSP] = mmio_modes[1].sp;
	int vec = snip_run(SNIP_32, &env, code, 1, &regs);
	if (!tap_vec(vec, VEC_PF, "mmio32: %s raises #PF", what))
		tap_skip("no #PF", "mmio32: %s: error code", what);
	else if ((err & PF_RSVD) && bare_tcg())
		/* QEMU 7.2's TCG leaves P clear in a reserved-bit #PF (the
		 * SDM sets it: the entry is present); lamina sets it. */
		tap_eq(trap_error | PF_P, err, "mmio32: %s: error code (P not compared: bare "
		       "TCG)", what);
	else
		tap_eq(trap_error, err, "mmio32: %s: error code", what);
	tap_eq(*k, was, "mmio32: %s: and writes nothing", what);
}

static void check_walk_faults(void)
{
	u32 after = trapped + 2 * WIN_PAGE; /* RAM, right after the page */
	u32 rsvd_la = RSVD_PDE << 22 | (after & 0x3fffff);
	u32 pde = pd32[RSVD_PDE];

	map_window(trapped);
	pd32[RSVD_PDE] = (after & 0xffc00000u) | PTE_P | PTE_RW | PTE_PS | BIT(21);
	fault_case(movsb, rsvd_la, PF_P | PF_W | PF_RSVD, after,
		   "MOVSB from the page to a 4 MiB page with reserved bit 21");
	fault_case(insb, rsvd_la, PF_P | PF_W | PF_RSVD, after,
		   "INSB from port 0xcfc to a 4 MiB page with reserved bit 21");
	pd32[RSVD_PDE] = pde;

	/* pt32[3], past the window, is not present. */
	fault_case(movsd, WIN_LO + 3 * WIN_PAGE - 2, PF_W, after + WIN_PAGE - 4,
		   "MOVSD from the page straddling into a not-present page");
	fault_case(insd, WIN_LO + 3 * WIN_PAGE - 2, PF_W, after + WIN_PAGE - 4,
		   "INSD from port 0xcfc straddling into a not-present page");

	if (cpuid(0).eax < 7 || !(cpuid_count(7, 0).ebx & CPUID7_EBX_SMAP)) {
		tap_skip("no SMAP", "mmio32: SMAP on emulated stores");
		return;
	}
	pd32[WIN_LO >> 22] |= PTE_US;
	pt32[2] |= PTE_US; /* a user page; the page itself stays supervisor */
	write_cr4(read_cr4() | CR4_SMAP);
	fault_case(movsb, WIN_LO + 2 * WIN_PAGE, PF_P | PF_W, after,
		   "MOVSB from the page to a user page under SMAP");
	fault_case(insb, WIN_LO + 2 * WIN_PAGE, PF_P | PF_W, after,
		   "INSB from port 0xcfc to a user page under SMAP");
	write_cr4(read_cr4() & ~CR4_SMAP);
	pd32[WIN_LO >> 22] &= ~PTE_US;
	map_window(trapped);
}

/* Under lamina: a STOSD straddling from the page into device memory that
 * lamina does not trap (the I/O APIC's page) is not emulated (#GP), and
 * its first two bytes, which were for the page, are not stored either. */
#define IOAPIC_PAGE 0xfec00000u
static const u8 stosd[] = { 0xab };

static void check_straddle_device(void)
{
	struct snip_env env = { .cr3 = (u32)pd32 };
	struct snip_regs regs = { .rflags = 0 };
	u32 last = trapped + 2 * WIN_PAGE - 4, was = mmio_read32(last);

	if (!lamina_present()) {
		tap_skip("bare: the page is RAM", "mmio32: a store from the page into untrapped "
			 "device memory");
		return;
	}
	map_window(trapped);
	pt32[2] = IOAPIC_PAGE | PTE_P | PTE_RW;
	regs.gpr[X86_RAX] = ~was;
	regs.gpr[X86_RDI] = WIN_LO + 2 * WIN_PAGE - 2;
	regs.gpr[X86_RSP] = mmio_modes[1].sp;
	tap_vec(snip_run(SNIP_32, &env, stosd, sizeof(stosd), &regs), VEC_GP,
		"mmio32: STOSD from the page into untrapped device memory raises #GP");
	tap_eq(mmio_read32(last), was, "mmio32: and stores nothing on the page");
	map_window(trapped);
}

/* The same STOSD many times over, as a guest looping on a refused access
 * would: each raises #GP, and lamina's log takes only a burst of the
 * warnings (the script counts them in lamina's log). */
#define FLOOD 40
#define MSR_TSC 0x10

static void check_warning_flood(void)
{
	struct snip_env env = { .cr3 = (u32)pd32 };
	u32 gp = 0;

	if (!lamina_present()) {
		tap_skip("bare: the page is RAM", "mmio32: a flood of refused stores");
		return;
	}
	bool back = boot_opt("tsc_back") != NULL;
	u64 tsc = rdtsc();

	if (back)
		wrmsr(MSR_TSC, 0);
	map_window(trapped);
	pt32[2] = IOAPIC_PAGE | PTE_P | PTE_RW;
	for (u32 i = 0; i < FLOOD; i++) {
		struct snip_regs regs = { .rflags = 0 };

		regs.gpr[X86_RAX] = mmio_read32(trapped + 2 * WIN_PAGE - 4);
		regs.gpr[X86_RDI] = WIN_LO + 2 * WIN_PAGE - 2;
		regs.gpr[X86_RSP] = mmio_modes[1].sp;
		gp += snip_run(SNIP_32, &env, stosd, sizeof(stosd), &regs) == VEC_GP;
	}
	map_window(trapped);
	if (back)
		wrmsr(MSR_TSC, tsc + rdtsc()); /* on from where it was */
	tap_eq(gp, FLOOD, "mmio32: %u more STOSDs into untrapped device memory all raise #GP%s",
	       FLOOD, back ? " (TSC written back to 0 first)" : "");
	kprintf("# mmio: flood of %u refused stores done\n", FLOOD);
}

/* 64-bit: a PTE with a bit at MAXPHYADDR set (reserved) makes the store
 * of MOVSB from the page #PF (the address it would give is not RAM). */
static void check_rsvd64(void)
{
	struct snip_env env = { .cr3 = (u32)pml4 };
	struct snip_regs regs = { .rflags = 0 };
	u32 maxphy = cpuid(0x80000000).eax >= 0x80000008 ? cpuid(0x80000008).eax & 0xff : 36;
	volatile u8 *after = phys(trapped + 2 * WIN_PAGE);
	u8 was;

	if (maxphy >= 52) {
		tap_skip("MAXPHYADDR is 52", "mmio64: a reserved bit in a PTE");
		return;
	}
	map_window(trapped);
	pt_lo[2] |= 1ull << maxphy;
	*after = (u8)~*after;
	was = *after;
	regs.gpr[X86_RSI] = WIN_LO + WIN_PAGE;
	regs.gpr[X86_RDI] = WIN_LO + 2 * WIN_PAGE;
	regs.gpr[X86_RSP] = mmio_modes[2].sp;
	tap_vec(snip_run(SNIP_64, &env, movsb, sizeof(movsb), &regs), VEC_PF,
		"mmio64: MOVSB from the page to a page whose PTE sets bit %u (MAXPHYADDR) "
		"raises #PF", maxphy);
	tap_eq(*after, was, "mmio64: and stores nothing");
	map_window(trapped);
}

/* TF set by POPF traps after the instruction that follows the POPF:
 * here one on the page, which lamina emulates. A load traps right after
 * it; a REP string instruction after each iteration, with EIP still on
 * it (the probe clears TF, so the rest of the REP is not run). */
#define STEP_OVER(insn) PROBE("pushfl; orl $0x100, (%%esp); popfl; 773: " insn "\n774: nop")

static void check_single_step(u32 p)
{
	u32 at, after, val, ecx = 3, edi = p;

	write_dr6(DR6_INIT);
	__asm__ volatile(STEP_OVER("movl (%2), %0") "movl $774b, %1"
			 : "=&a"(val), "=&r"(after) : "r"(p) : "memory");
	tap_vec(trap_vector, VEC_DB, "single step: a load from the page is followed by #DB");
	tap_eq(trap_eip, after, "single step: the #DB comes right after the load");
	tap_check(read_dr6() & DR6_BS, "single step: DR6.BS is set (DR6 0x%x)", read_dr6());
	write_dr6(DR6_INIT);
	__asm__ volatile(STEP_OVER("rep stosl") "movl $773b, %2"
			 : "+c"(ecx), "+D"(edi), "=r"(at) : "a"(0x5a5a5a5a) : "memory");
	tap_vec(trap_vector, VEC_DB, "single step: REP STOSD to the page is followed by #DB");
	tap_eq(trap_eip, at, "single step: the #DB comes with EIP on REP STOSD");
	tap_check(ecx == 2 && edi == p + 4, "single step: REP STOSD ran one iteration (ECX %u)",
		  ecx);
	write_dr6(DR6_INIT);
}

/* Data breakpoints on the page: the CPU's debug registers do not see an
 * access lamina emulates, so lamina checks DR0-DR3 itself and raises the
 * #DB trap: after the store (B0 replacing a stale B1), none for a load
 * with a write breakpoint, one with a read/write breakpoint, and in a REP
 * STOSD after the iteration that wrote there, with EIP still on it. */
#define DR7_L0_WRITE4 0x000d0401u /* L0, R/W 01, LEN 4 */
#define DR7_L0_RW4 0x000f0401u    /* L0, R/W 11, LEN 4 */

/* An instruction that faults reports no data breakpoint: MOVSD reads
 * the watched dword from the page, then its store to untrapped device
 * memory raises #GP (lamina emulates no such store); neither that #GP
 * nor the next instruction lamina completes (CPUID) brings a #DB. */
static void check_breakpoint_then_fault(u32 p)
{
	u32 esi = p + 8, edi = IOAPIC_PAGE, eax = 0;

	if (!lamina_present())
		return tap_skip("bare: the page is RAM", "data breakpoint: a faulting MOVSD");
	write_dr6(DR6_INIT);
	write_dr7(DR7_L0_RW4);
	__asm__ volatile(PROBE("movsl") : "+S"(esi), "+D"(edi) :: "memory");
	tap_vec(trap_vector, VEC_GP, "data breakpoint: MOVSD from the page to device memory: #GP");
	__asm__ volatile(PROBE("cpuid") : "+a"(eax) :: "ebx", "ecx", "edx", "memory");
	tap_vec(trap_vector, TRAP_NONE, "data breakpoint: no #DB for the faulting MOVSD's read, "
		"not after the next instruction either");
}

static void check_data_breakpoints(u32 p)
{
	u32 val = 0, after, at, ecx = 4, edi = p;

	write_dr0(p + 8);
	write_dr6(DR6_INIT | 2);
	write_dr7(DR7_L0_WRITE4);
	__asm__ volatile(PROBE("movl %2, 8(%3)\n776: nop") "movl $776b, %0"
			 : "=r"(after) : "0"(0), "r"(0x1234), "r"(p) : "memory");
	tap_vec(trap_vector, VEC_DB, "data breakpoint: a store to the page raises #DB");
	tap_eq(trap_eip, after, "data breakpoint: the #DB comes after the store");
	tap_eq(read_dr6() & 0x400f, 1, "data breakpoint: DR6.B0 alone (DR6 0x%x)", read_dr6());
	write_dr6(DR6_INIT);
	__asm__ volatile(PROBE("movl 8(%1), %0") : "+r"(val) : "r"(p) : "memory");
	tap_vec(trap_vector, TRAP_NONE, "data breakpoint: a load passes a write breakpoint");
	tap_eq(val, 0x1234, "data breakpoint: the store went to the page");
	write_dr7(DR7_L0_RW4);
	__asm__ volatile(PROBE("movl 8(%1), %0") : "+r"(val) : "r"(p) : "memory");
	tap_vec(trap_vector, VEC_DB, "data breakpoint: a load hits a read/write breakpoint");
	write_dr6(DR6_INIT);
	write_dr7(DR7_L0_WRITE4);
	__asm__ volatile(PROBE("777: rep stosl") "movl $777b, %2"
			 : "+c"(ecx), "+D"(edi), "=r"(at) : "a"(0x5a5a5a5a) : "memory");
	tap_vec(trap_vector, VEC_DB, "data breakpoint: REP STOSD over it raises #DB");
	tap_eq(trap_eip, at, "data breakpoint: with EIP on the REP STOSD");
	tap_check(ecx == 1 && edi == p + 12,
		  "data breakpoint: after the third iteration (ECX %u, EDI %#x)", ecx, edi);
	check_breakpoint_then_fault(p);
	write_dr7(0x400);
	write_dr6(DR6_INIT);
}

/* RF set by an IRET holds off instruction breakpoints for one
 * instruction, here a load from the page, which lamina emulates; once it
 * completes RF is clear, so a breakpoint on the next instruction fires
 * (VT-x saves RF as 1 at the EPT violation, and AMD-V keeps the IRET's). */
static void check_resume_flag(u32 p)
{
	u32 val, next;

	write_dr6(DR6_INIT);
	__asm__ volatile("movl $775f, %1\n movl %1, %%dr0\n movl $0x401, %1\n movl %1, %%dr7\n"
			 "movl $-1, trap_vector\n"
			 "pushfl\n orl $0x10000, (%%esp)\n pushl %%cs\n pushl $771f\n iret\n"
			 "771: movl (%2), %0\n"
			 "775: nop\n"
			 "772:\n"
			 ".pushsection .extable, \"a\"\n.long 771b, 772b\n.popsection\n"
			 "movl $775b, %1\n"
			 : "=&a"(val), "=&r"(next) : "r"(p) : "memory");
	write_dr7(0x400);
	tap_vec(trap_vector, VEC_DB, "resume flag: a breakpoint right after a load from the page fires");
	tap_eq(trap_eip, next, "resume flag: the #DB comes at the breakpoint");
	check_dr6(read_dr6(), 1, 1, "resume flag: breakpoint 0");
	write_dr6(DR6_INIT);
}

void test_main(void)
{
	struct rnd r = { 0x6d6d696f74657374ull };
	u32 p;

	n_cases = (u32)boot_opt_num("cases", 8);
	verbose = boot_opt("verbose") != NULL;
	if (!setup(&p))
		return;
	timer_init();
	snip_init();
	build_tables();
	check_page(p);
	check_single_step(p);
	check_resume_flag(p);
	check_data_breakpoints(p);
	mmio_modes[1].sp = mmio_modes[2].sp = (u32)test_stack + sizeof(test_stack) - 64;
	run_mode(&mmio_modes[0], &r);
	run_mode(&mmio_modes[1], &r);
	check_walk_faults();
	check_straddle_device();
	check_warning_flood();
	if (lm_available()) {
		run_mode(&mmio_modes[2], &r);
		check_noncanonical();
		check_rsvd64();
	} else {
		tap_skip("no long mode", "mmio64");
	}
}
