/* core/guest_mem.c's walk of the guest's page tables on a stand-in
 * physical memory (tests/unit/host_phys.c): translations and the A/D bits
 * it sets, and what it does when the guest rewrites an entry between
 * lamina's read of it and lamina's update of its A/D bits. That moment is
 * caught with page protection: the page table holding the entry is made
 * read-only, so the walk's locked update of it faults, and the SIGSEGV
 * handler plays the guest's other CPU, writing the entry anew before the
 * update runs again (and catching the next walk's first read to arm the
 * trap again). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include <core/bootinfo.h>
#include <core/guest_mem.h>
#include <core/mm.h>
#include <x86/cpu.h>

#include "host_env.h"
#include "host_phys.h"

#define PHYS_SIZE (64 * MiB)

#define P BIT(0)
#define RW BIT(1)
#define US BIT(2)
#define A BIT(5)
#define D BIT(6)

/* Tables (4-level: PML4, PDPT, PD, PT; 32-bit paging: PD, PT) and frames. */
#define ROOT 0x10000ull
#define PDPT 0x11000ull
#define PD 0x12000ull
#define PT 0x13000ull
#define FRAME 0x200000ull
#define LA 0x0000123456789000ull /* PML4 36, PDPT 209, PD 179, PT 393 */
#define LA32 0x12345000ull        /* PD 72, PT 837 */

struct boot_info boot_info;
struct home home;

/* ---- the vCPU and CPU lamina's walk asks ---- */

static u64 regs[GUEST_DR7 + 1];
static enum x86_mode mode;

static u64 get_reg(struct vcpu *v, enum guest_reg r)
{
	return regs[r];
}

static struct segment cs = { .limit = 0xffffffffu };

static void get_seg(struct vcpu *v, enum x86_seg s, struct segment *out)
{
	*out = s == X86_CS ? cs : (struct segment){ .limit = 0xffffffffu };
}

static unsigned int cpl(struct vcpu *v)
{
	return 0;
}

static const struct vendor_ops ops = { .get_reg = get_reg, .get_seg = get_seg, .cpl = cpl };
const struct vendor_ops *vendor = &ops;

enum x86_mode vcpu_mode(struct vcpu *v)
{
	return mode;
}

unsigned int cpu_phys_bits(void)
{
	return 40;
}

static struct vcpu vcpu;

/* ---- page tables ---- */

static u64 pte_pa_64(u64 la)
{
	return PT + ((la >> 12) & 511) * 8;
}

static u64 pte_pa_32(u64 la)
{
	return PT + ((la >> 12) & 1023) * 4;
}

/* 4-level paging, la -> frame; upper levels already accessed (so the
 * walk's only update is the PTE's), the PTE as given. */
static void map_64(u64 la, u64 pte)
{
	put64(ROOT + ((la >> 39) & 511) * 8, PDPT | P | RW | US | A);
	put64(PDPT + ((la >> 30) & 511) * 8, PD | P | RW | US | A);
	put64(PD + ((la >> 21) & 511) * 8, PT | P | RW | US | A);
	put64(pte_pa_64(la), pte);
	regs[GUEST_CR0] = CR0_PE | CR0_PG | CR0_WP;
	regs[GUEST_CR3] = ROOT;
	regs[GUEST_CR4] = CR4_PAE;
	regs[GUEST_EFER] = EFER_LME | EFER_LMA;
	mode = X86_MODE_64;
}

static void map_32(u64 la, u32 pte)
{
	put32(ROOT + ((la >> 22) & 1023) * 4, (u32)(PT | P | RW | US | A));
	put32(pte_pa_32(la), pte);
	regs[GUEST_CR0] = CR0_PE | CR0_PG | CR0_WP;
	regs[GUEST_CR3] = ROOT;
	regs[GUEST_CR4] = 0;
	regs[GUEST_EFER] = 0;
	mode = X86_MODE_32;
}

/* ---- the guest's other CPU, at the moment of lamina's A/D update ---- */

static struct {
	u64 entry;              /* physical address of the entry it rewrites */
	unsigned int size;      /* 4 or 8 */
	unsigned long changes;  /* rewrites left to make */
	u64 next;               /* the next value it writes */
	u64 step;               /* added to next after each rewrite */
	unsigned long made;     /* rewrites made */
	unsigned long restarts; /* walks that started over after one */
	bool ad_on_unread;      /* found A/D set on a value lamina never read */
} other;

static void protect(u64 pa, int prot)
{
	assert_int_equal(mprotect(host_pa(pa), PAGE_SIZE, prot), 0);
}

static u64 entry_now(void)
{
	return other.size == 8 ? get64(other.entry) : get32(other.entry);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	u8 *page = (u8 *)((uintptr_t)si->si_addr & ~(uintptr_t)(PAGE_SIZE - 1));

	if (page == host_pa(ROOT)) {
		/* A walk starts over: let it read, catch its next update. */
		mprotect(host_pa(ROOT), PAGE_SIZE, PROT_READ | PROT_WRITE);
		mprotect(host_pa(PT), PAGE_SIZE, PROT_READ);
		other.restarts++;
	} else if (page == host_pa(PT)) {
		/* lamina's update of the entry, about to run: rewrite the
		 * entry first (or, with no rewrites left, let it through). */
		mprotect(host_pa(PT), PAGE_SIZE, PROT_READ | PROT_WRITE);
		if (!other.changes)
			return;
		other.changes--;
		if (entry_now() & (A | D))
			other.ad_on_unread = true;
		if (other.size == 8)
			put64(other.entry, other.next);
		else
			put32(other.entry, (u32)other.next);
		other.next += other.step;
		other.made++;
		mprotect(host_pa(ROOT), PAGE_SIZE, PROT_NONE);
	} else {
		signal(SIGSEGV, SIG_DFL); /* a real crash: fault again, and die */
	}
}

/* From now on, the entry at pa (size bytes) is rewritten `changes` times,
 * to first, first + step, ..., each time just before lamina would set its
 * A/D bits. Its value now must lack the bits the walk sets. */
static void rewrite_at_update(u64 pa, unsigned int size, unsigned long changes, u64 first,
			      u64 step)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

	other = (typeof(other)){ .entry = pa, .size = size, .changes = changes, .next = first,
				 .step = step };
	assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
	protect(PT, PROT_READ);
}

static int setup(void **state)
{
	assert_int_equal(host_phys_reset(PHYS_SIZE), 0);
	boot_info.fw_map = (struct memmap){ .n = 1, .r = { { 0, PHYS_SIZE, MEM_USABLE } } };
	home = (struct home){ .base = 32 * MiB, .size = 2 * MiB };
	assert_int_equal(guest_map_init(), 0);
	vcpu = (struct vcpu){ 0 };
	cs = (struct segment){ .limit = 0xffffffffu };
	return 0;
}

static int teardown(void **state)
{
	protect(ROOT, PROT_READ | PROT_WRITE);
	protect(PT, PROT_READ | PROT_WRITE);
	signal(SIGSEGV, SIG_DFL);
	return 0;
}

/* ---- plain walks ---- */

static void test_walk_sets_accessed_and_dirty(void **state)
{
	struct emu_fault f;
	u64 gpa;

	map_64(LA, FRAME | P | RW);
	/* Nothing accessed yet, at any level. */
	put64(ROOT + ((LA >> 39) & 511) * 8, PDPT | P | RW);
	put64(PDPT + ((LA >> 30) & 511) * 8, PD | P | RW);
	put64(PD + ((LA >> 21) & 511) * 8, PT | P | RW);

	assert_int_equal(guest_translate(&vcpu, LA + 0x123, ACCESS_READ, &gpa, &f), 0);
	assert_int_equal(gpa, FRAME + 0x123);
	assert_int_equal(get64(ROOT + ((LA >> 39) & 511) * 8), PDPT | P | RW | A);
	assert_int_equal(get64(PDPT + ((LA >> 30) & 511) * 8), PD | P | RW | A);
	assert_int_equal(get64(PD + ((LA >> 21) & 511) * 8), PT | P | RW | A);
	assert_int_equal(get64(pte_pa_64(LA)), FRAME | P | RW | A);
	assert_int_equal(guest_translate(&vcpu, LA, ACCESS_WRITE, &gpa, &f), 0);
	assert_int_equal(get64(pte_pa_64(LA)), FRAME | P | RW | A | D);
	assert_int_equal(get64(PD + ((LA >> 21) & 511) * 8), PT | P | RW | A); /* no D above */
}

/* A 32-bit entry is updated as 32 bits: its neighbours stay as they are. */
static void test_walk_32bit_entries(void **state)
{
	struct emu_fault f;
	u64 gpa;

	map_32(LA32, (u32)(FRAME | P | RW));
	put32(pte_pa_32(LA32) + 4, 0xdeadb000u);
	put32(pte_pa_32(LA32) - 4, 0xfeedf000u);
	assert_int_equal(guest_translate(&vcpu, LA32 + 0xabc, ACCESS_WRITE, &gpa, &f), 0);
	assert_int_equal(gpa, FRAME + 0xabc);
	assert_int_equal(get32(pte_pa_32(LA32)), FRAME | P | RW | A | D);
	assert_int_equal(get32(pte_pa_32(LA32) + 4), 0xdeadb000u);
	assert_int_equal(get32(pte_pa_32(LA32) - 4), 0xfeedf000u);
}

/* ---- the entry rewritten under the walk ---- */

/* The guest moves the page between lamina's read and update: lamina walks
 * again and uses the new frame, and sets A/D on the new entry only. */
static void test_frame_moved_under_walk(void **state)
{
	static const enum guest_access accs[] = { ACCESS_READ, ACCESS_WRITE };

	for (unsigned int i = 0; i < ARRAY_SIZE(accs); i++) {
		struct emu_fault f;
		u64 gpa, moved = FRAME + 0x5000;

		map_64(LA, FRAME | P | RW);
		rewrite_at_update(pte_pa_64(LA), 8, 1, moved | P | RW, 0);
		assert_int_equal(guest_translate(&vcpu, LA + 8, accs[i], &gpa, &f), 0);
		assert_int_equal(gpa, moved + 8);
		assert_int_equal(other.made, 1);
		assert_int_equal(other.restarts, 1);
		assert_false(other.ad_on_unread);
		assert_int_equal(get64(pte_pa_64(LA)),
				 moved | P | RW | A | (accs[i] == ACCESS_WRITE ? D : 0));
		teardown(state);
	}
}

static void test_frame_moved_under_walk_32bit(void **state)
{
	struct emu_fault f;
	u64 gpa, moved = FRAME + 0x7000;

	map_32(LA32, (u32)(FRAME | P | RW));
	rewrite_at_update(pte_pa_32(LA32), 4, 1, moved | P | RW, 0);
	assert_int_equal(guest_translate(&vcpu, LA32, ACCESS_WRITE, &gpa, &f), 0);
	assert_int_equal(gpa, moved);
	assert_int_equal(other.restarts, 1);
	assert_false(other.ad_on_unread);
	assert_int_equal(get32(pte_pa_32(LA32)), moved | P | RW | A | D);
}

/* The guest unmaps the page under a read, or write-protects it under a
 * write: the #PF the new entry gives, and the entry keeps the value the
 * guest wrote (no A/D set in it). */
static void test_fault_after_rewrite(void **state)
{
	static const struct {
		enum guest_access acc;
		u64 rewritten;
		u32 error_code;
	} cases[] = {
		{ ACCESS_READ, FRAME | RW, 0 }, /* not present, read, supervisor */
		{ ACCESS_WRITE, FRAME | P, 3 }, /* present, write */
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct emu_fault f;
		u64 gpa;

		map_64(LA, FRAME | P | RW);
		rewrite_at_update(pte_pa_64(LA), 8, 1, cases[i].rewritten, 0);
		assert_int_equal(guest_translate(&vcpu, LA, cases[i].acc, &gpa, &f), -1);
		assert_int_equal(f.vector, 14);
		assert_int_equal(f.error_code, cases[i].error_code);
		assert_int_equal(f.cr2, LA);
		assert_int_equal(get64(pte_pa_64(LA)), cases[i].rewritten);
		teardown(state);
	}
}

/* A few rewrites in a row: lamina keeps walking until one holds. */
static void test_several_rewrites(void **state)
{
	struct emu_fault f;
	u64 gpa;

	map_64(LA, FRAME | P | RW);
	rewrite_at_update(pte_pa_64(LA), 8, 5, (FRAME + PAGE_SIZE) | P | RW, PAGE_SIZE);
	assert_int_equal(guest_translate(&vcpu, LA, ACCESS_READ, &gpa, &f), 0);
	assert_int_equal(gpa, FRAME + 5 * PAGE_SIZE);
	assert_int_equal(other.restarts, 5);
	assert_false(other.ad_on_unread);
}

/* A guest that never stops rewriting the entry: lamina gives up after a
 * bounded number of walks, with nothing copied, and the instruction is to
 * run again. */
static void test_endless_rewrites_retry(void **state)
{
	struct emu_fault f;
	u64 gpa;
	u8 buf[16];

	map_64(LA, FRAME | P | RW);
	rewrite_at_update(pte_pa_64(LA), 8, ~0ul, (FRAME + PAGE_SIZE) | P | RW, PAGE_SIZE);
	assert_int_equal(guest_translate(&vcpu, LA, ACCESS_READ, &gpa, &f), -1);
	assert_int_equal(f.vector, EMU_VECTOR_RETRY);
	assert_true(other.made >= 2 && other.made < 1000);
	assert_false(other.ad_on_unread);

	memset(buf, 0x5a, sizeof(buf));
	other.made = 0;
	assert_int_equal(guest_write_linear(&vcpu, LA, buf, sizeof(buf), &f), -1);
	assert_int_equal(f.vector, EMU_VECTOR_RETRY);
	assert_true(other.made >= 2);
	/* None of the frames the entry named got the bytes. */
	for (u64 pa = FRAME; pa < other.next; pa += PAGE_SIZE)
		assert_int_equal(host_pa(pa)[0], 0);
}

/* An instruction across a page boundary whose second page's entry keeps
 * changing: not a short fetch (which would not decode), but a retry. */
static void test_fetch_retry_on_second_page(void **state)
{
	struct emu_fault f;
	struct guest_insn gi;
	u64 first = LA, second = LA + PAGE_SIZE;

	map_64(first, FRAME | P | RW | A);
	put64(pte_pa_64(second), (FRAME + PAGE_SIZE) | P | RW);
	vcpu.rip = first + PAGE_SIZE - 3;
	memcpy(host_pa(FRAME + PAGE_SIZE - 3), "\x48\xc7\x05", 3); /* MOV [rip+d32], imm32 */
	rewrite_at_update(pte_pa_64(second), 8, ~0ul, (FRAME + 2 * PAGE_SIZE) | P | RW,
			  PAGE_SIZE);
	assert_int_equal(guest_fetch_decode(&vcpu, &gi, &f), INSN_FETCH_FAULT);
	assert_int_equal(f.vector, EMU_VECTOR_RETRY);

	/* Once the guest leaves the entry alone, all 15 bytes come. */
	teardown(state);
	assert_int_equal(guest_fetch_decode(&vcpu, &gi, &f), INSN_OK);
	assert_int_equal(gi.fetched, X86_MAX_INSN_LEN);
	assert_int_equal(gi.insn.len, 11);
}

/* ---- instruction fetch ---- */

#define PF_I BIT(4)

/* The instruction at RIP 3 bytes before LA's page ends, its bytes there
 * the first n of b, with the next page not present: what the fetch
 * makes of it. */
static enum insn_fetch fetch_before_absent_page(const char *b, unsigned int n,
						struct guest_insn *gi, struct emu_fault *f)
{
	map_64(LA, FRAME | P | RW | A);
	put64(pte_pa_64(LA + PAGE_SIZE), 0);
	regs[GUEST_EFER] |= EFER_NXE;
	vcpu.rip = LA + PAGE_SIZE - n;
	memcpy(host_pa(FRAME + PAGE_SIZE - n), b, n);
	*f = (struct emu_fault){ 0 };
	return guest_fetch_decode(&vcpu, gi, f);
}

/* An instruction that runs into a page that is not present raises that
 * page's #PF (CR2 its first byte; not present, a supervisor fetch: I with
 * NX on), as the CPU would, not #GP or #UD for short bytes. */
static void test_fetch_into_absent_page(void **state)
{
	struct emu_fault f;
	struct guest_insn gi;

	assert_int_equal(fetch_before_absent_page("\x48\x89", 2, &gi, &f), INSN_FETCH_FAULT);
	assert_int_equal(gi.fetched, 2);
	assert_int_equal(f.vector, 14);
	assert_true(f.has_error);
	assert_int_equal(f.error_code, PF_I);
	assert_int_equal(f.cr2, LA + PAGE_SIZE);
	/* 32-bit paging: no I bit without NX. */
	map_32(LA32, (u32)(FRAME | P | RW | A));
	put32(pte_pa_32(LA32 + PAGE_SIZE), 0);
	vcpu.rip = LA32 + PAGE_SIZE - 1;
	memcpy(host_pa(FRAME + PAGE_SIZE - 1), "\x0f", 1);
	assert_int_equal(guest_fetch_decode(&vcpu, &gi, &f), INSN_FETCH_FAULT);
	assert_int_equal(f.vector, 14);
	assert_int_equal(f.error_code, 0);
	assert_int_equal(f.cr2, LA32 + PAGE_SIZE);
}

/* One whose bytes end on the first page runs without the next: the CPU
 * completes it. Bytes there that no longer decode (changed since the
 * exit) are #UD; 15 prefixes, #GP(0). */
static void test_fetch_before_absent_page(void **state)
{
	struct emu_fault f;
	struct guest_insn gi;
	u8 prefixes[X86_MAX_INSN_LEN];

	assert_int_equal(fetch_before_absent_page("\x48\x89\x03", 3, &gi, &f), INSN_OK);
	assert_int_equal(gi.insn.len, 3);
	assert_int_equal(gi.insn.op, X86_OP_MOV);
	assert_int_equal(fetch_before_absent_page("\x06", 1, &gi, &f), INSN_INVALID);
	assert_int_equal(f.vector, 6); /* PUSH ES: gone from 64-bit mode */
	assert_false(f.has_error);
	/* 15 prefixes, all before the absent page: too long without it. */
	memset(prefixes, 0x66, sizeof(prefixes));
	assert_int_equal(fetch_before_absent_page((const char *)prefixes, sizeof(prefixes),
						  &gi, &f), INSN_INVALID);
	assert_int_equal(f.vector, 13);
	assert_true(f.has_error);
	assert_int_equal(f.error_code, 0);
}

/* Code in memory lamina may not read (its own, here) is #GP: the CPU
 * read it, lamina cannot. */
static void test_fetch_not_ram(void **state)
{
	struct emu_fault f;
	struct guest_insn gi;

	map_64(LA, home.base | P | RW | A);
	vcpu.rip = LA;
	assert_int_equal(guest_fetch_decode(&vcpu, &gi, &f), INSN_FETCH_FAULT);
	assert_int_equal(f.vector, 13);
}

/* Outside 64-bit mode the fetch stops at CS's limit: an instruction that
 * ends on it runs, one that needs a byte past it (or starts past it) is
 * #GP(0), as on the CPU; CS's base is added, the sum wrapping at 4 GiB. */
static void test_fetch_stops_at_cs_limit(void **state)
{
	struct emu_fault f;
	struct guest_insn gi;

	regs[GUEST_CR0] = CR0_PE; /* no paging: linear is physical */
	mode = X86_MODE_32;
	cs = (struct segment){ .base = FRAME, .limit = 0x2002 };
	vcpu.rip = 0x2000;
	memcpy(host_pa(FRAME + 0x2000), "\x89\x03\x90\x90", 4); /* MOV [EBX], EAX */
	assert_int_equal(guest_fetch_decode(&vcpu, &gi, &f), INSN_OK);
	assert_int_equal(gi.insn.len, 2);
	assert_int_equal(gi.fetched, 3);

	memcpy(host_pa(FRAME + 0x2000), "\xc7\x03\x01\x00\x00\x00", 6); /* MOV [EBX], 1 */
	f = (struct emu_fault){ 0 };
	assert_int_equal(guest_fetch_decode(&vcpu, &gi, &f), INSN_FETCH_FAULT);
	assert_int_equal(f.vector, 13);
	assert_true(f.has_error);
	assert_int_equal(f.error_code, 0);

	vcpu.rip = 0x2003;
	f = (struct emu_fault){ 0 };
	assert_int_equal(guest_fetch_decode(&vcpu, &gi, &f), INSN_FETCH_FAULT);
	assert_int_equal(f.vector, 13);

	/* Real mode: IP past the 64 KiB limit; a base near 4 GiB wraps. */
	mode = X86_MODE_16;
	regs[GUEST_CR0] = 0;
	cs = (struct segment){ .base = 0xffffff00ull, .limit = 0xffff };
	vcpu.rip = 0x100 + FRAME;
	memcpy(host_pa(FRAME), "\x89\x07", 2); /* MOV [BX], AX */
	assert_int_equal(guest_fetch_decode(&vcpu, &gi, &f), INSN_FETCH_FAULT);
	assert_int_equal(f.vector, 13);
	vcpu.rip = 0x100;
	cs.base = 0xffffff00ull + FRAME;
	memcpy(host_pa(FRAME), "\x89\x07", 2);
	assert_int_equal(guest_fetch_decode(&vcpu, &gi, &f), INSN_OK);
	assert_int_equal(gi.insn.len, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk_sets_accessed_and_dirty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_32bit_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_moved_under_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_moved_under_walk_32bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_after_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_rewrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endless_rewrites_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_retry_on_second_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_into_absent_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_before_absent_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_not_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_stops_at_cs_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
