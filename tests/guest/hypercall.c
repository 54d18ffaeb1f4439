/* hypercall: the boot contract (Multiboot state and information as lamina
 * hands them over) and lamina's hypercall ABI, from ring 0 and ring 3.
 * A 32-bit guest sees the low 32 bits of each register: the checks
 * compare those.
 *
 * Option modules=N: the loader passes N further modules, each a file
 * starting with "lamina-test-module". */
#include "acpi.h"
#include "boot.h"
#include "cpu.h"
#include "hc.h"
#include "longmode.h"
#include "print.h"
#include "tap.h"
#include "trap.h"
#include "util.h"

const char test_name[] = "hypercall";
const char *const test_options[] = { "modules", NULL };

#define MODULE_MAGIC "lamina-test-module"
#define SZ_1M 0x100000u
#define SZ_2M 0x200000u

static struct acpi_cpus cpus;
static u64 hv_base, hv_size; /* from MEMINFO */
static char log_text[8192];  /* lamina's log from offset 0 */
static u32 log_len;

static void check_boot_state(void)
{
	tap_eq(boot_magic, MB_LOADER_MAGIC, "boot: EAX holds the Multiboot magic");
	tap_check((boot_cr0 & (CR0_PE | CR0_PG)) == CR0_PE,
		  "boot: protected mode, paging off (CR0=0x%x)", boot_cr0);
	tap_check(!(boot_eflags & (RFLAGS_VM | RFLAGS_IF)),
		  "boot: EFLAGS.VM and IF clear (EFLAGS=0x%x)", boot_eflags);
	tap_check((boot.flags & MB_INFO_MEM) && boot.mem_lower && boot.mem_lower <= 640,
		  "boot: mem_lower given (%u KiB), mem_upper %u KiB", boot.mem_lower,
		  boot.mem_upper);
	tap_check((boot.flags & MB_INFO_MMAP) && boot.n_mmap,
		  "boot: memory map given (%u entries)", boot.n_mmap);
	for (u32 i = 0; i < boot.n_mmap; i++)
		kprintf("#   mmap %016llx-%016llx type %u\n", boot.mmap[i].base,
			boot.mmap[i].base + boot.mmap[i].len - 1, boot.mmap[i].type);
	/* What a loader promises as upper memory must be RAM. */
	tap_check(mmap_covered(SZ_1M, (u64)boot.mem_upper * 1024, MMAP_AVAILABLE),
		  "boot: mem_upper lies in available memory");
}

static bool module_looks_right(const struct boot_module *m)
{
	u32 n = sizeof(MODULE_MAGIC) - 1;

	return m->end - m->start >= n && memcmp((const void *)m->start, MODULE_MAGIC, n) == 0;
}

static void check_modules(void)
{
	u32 want = (u32)boot_opt_num("modules", 0);

	if (!boot_opt("modules"))
		return;
	tap_eq(boot.n_mods, want, "boot: %u further modules passed on", want);
	for (u32 i = 0; i < boot.n_mods; i++) {
		const struct boot_module *m = &boot.mods[i];

		kprintf("# module %u: %08x-%08x \"%s\"\n", i, m->start, m->end, m->cmdline);
		tap_check(module_looks_right(m), "boot: module %u holds its file", i);
		tap_check(mmap_covered(m->start, m->end - m->start, MMAP_AVAILABLE),
			  "boot: module %u lies in available memory", i);
	}
}

static void check_version(void)
{
	struct hc_regs r = { .eax = LAMINA_HC_VERSION };
	u32 vendor = cpu_is_amd() ? LAMINA_VENDOR_AMD_SVM : LAMINA_VENDOR_INTEL_VMX;

	tap_vec(hc_call(&r), TRAP_NONE, "version: the hypercall returns");
	tap_eq(r.eax, 0, "version: status 0");
	tap_eq(r.ebx, LAMINA_SIGNATURE, "version: EBX holds LAMINA_SIGNATURE");
	tap_eq(r.ecx, LAMINA_VERSION_CODE, "version: ECX holds LAMINA_VERSION_CODE");
	tap_eq(r.edx, vendor, "version: EDX names the CPU vendor's extension");
	if (cpus.count)
		tap_eq(r.esi, cpus.count, "version: ESI counts the MADT's enabled CPUs");
	else
		tap_check(false, "version: ESI counts the MADT's enabled CPUs (no MADT)");
}

static void check_exit_counts(void)
{
	enum { N = 100 };
	u64 before = 0, after = 0, past = 1;
	struct hc_regs r;
	bool ok;

	ok = hc_exit_count(0, LAMINA_EXIT_CPUID, &before);
	for (int i = 0; i < N; i++)
		cpuid(0);
	ok &= hc_exit_count(0, LAMINA_EXIT_CPUID, &after);
	tap_check(ok && after - before >= N, "exit count: CPU 0's CPUID count grew by >= %u (by %llu)",
		  N, after - before);
	ok = hc_exit_count(0, LAMINA_EXIT_COUNT, &past);
	tap_check(ok && past == 0, "exit count: reason LAMINA_EXIT_COUNT reads 0");
	past = 1;
	ok = hc_exit_count(0, 0xffffffffu, &past);
	tap_check(ok && past == 0, "exit count: reason 0xffffffff reads 0");
	r = (struct hc_regs){ .eax = LAMINA_HC_EXIT_COUNT, .ebx = cpus.count ? cpus.count : 64 };
	hc_call(&r);
	tap_eq((u32)hc_status(&r), (u32)LAMINA_E_INVAL,
	       "exit count: a CPU index past the last is LAMINA_E_INVAL");
}

static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

static void check_meminfo(void)
{
	bool ok = hc_meminfo(&hv_base, &hv_size);

	kprintf("# meminfo: lamina keeps %llx-%llx (%llu MiB)\n", hv_base, hv_base + hv_size - 1,
		hv_size >> 20);
	tap_check(ok && hv_size && !(hv_base % SZ_2M) && !(hv_size % SZ_2M),
		  "meminfo: a 2 MiB-aligned range");
	tap_check(mmap_covered(hv_base, hv_size, MMAP_RESERVED),
		  "meminfo: the memory map marks it reserved");
	tap_check(!mmap_overlaps(hv_base, hv_size, MMAP_AVAILABLE),
		  "meminfo: no available range overlaps it");
	tap_check(!overlaps(SZ_1M, (u64)boot.mem_upper * 1024, hv_base, hv_size),
		  "meminfo: mem_upper does not reach into it");
	for (u32 i = 0; i < boot.n_mods; i++)
		tap_check(!overlaps(boot.mods[i].start, boot.mods[i].end - boot.mods[i].start,
				    hv_base, hv_size),
			  "meminfo: module %u is outside it", i);
}

static void check_unknown_function(void)
{
	static const u32 fns[] = { LAMINA_HC_BASE + 0x7f, LAMINA_HC_BASE + 0xffff, 0 };

	for (u32 i = 0; i < ARRAY_SIZE(fns); i++) {
		struct hc_regs r = { .eax = fns[i] };
		int vec = hc_call(&r);

		tap_check(vec == TRAP_NONE && hc_status(&r) == LAMINA_E_NOFUNC,
			  "unknown function 0x%x: LAMINA_E_NOFUNC, no exception", fns[i]);
		if (vec != TRAP_NONE || hc_status(&r) != LAMINA_E_NOFUNC)
			kprintf("#   %s, status %d\n", vector_name(vec), hc_status(&r));
	}
}

/* 16 bytes a call, in EBX, ECX, EDX, ESI. */
static void check_log_read(void)
{
	s32 status;

	log_len = hc_log_read(0, log_text, sizeof(log_text), &status);
	kprintf("# log: read %u bytes, last status %d\n", log_len, status);
	tap_check(status >= 0 && status <= 16 && mem_contains(log_text, log_len, "lamina"),
		  "log read: the log from offset 0 mentions lamina");
	/* They quote lamina's command line, which is console-only. */
	tap_check(!mem_contains(log_text, log_len, "option '"),
		  "log read: no option message is in the log");
}

/* From 64-bit mode: results fill whole registers (upper halves zero,
 * status sign-extended), and inputs are 32 bits wide (upper halves
 * ignored). */
static void check_64bit(void)
{
	const u64 junk = 0xdead000000000000ull;
	struct hc64_regs r = { .rax = junk | LAMINA_HC_VERSION, .rbx = junk, .rcx = junk,
			       .rdx = junk, .rsi = junk };
	u32 n = MIN(log_len, 16u);
	u64 text[2];
	int vec;

	if (!lm_available()) {
		tap_skip("no long mode", "64-bit: hypercalls");
		return;
	}
	vec = lm_hypercall(&r, cpu_is_amd());
	if (!lamina_present()) {
		tap_vec(vec, VEC_UD, "64-bit: the hypercall instruction raises #UD bare");
		return;
	}
	tap_check(vec == TRAP_NONE && r.rax == 0 && r.rbx == LAMINA_SIGNATURE &&
			  r.rcx == LAMINA_VERSION_CODE && !(r.rdx >> 32) && !(r.rsi >> 32),
		  "64-bit: VERSION ignores upper input halves, zeroes upper output halves");
	r = (struct hc64_regs){ .rax = LAMINA_HC_LOG_READ };
	vec = lm_hypercall(&r, cpu_is_amd());
	text[0] = (r.rbx & 0xffffffffu) | r.rcx << 32;
	text[1] = (r.rdx & 0xffffffffu) | r.rsi << 32;
	tap_check(vec == TRAP_NONE && r.rax == n && !(r.rbx >> 32) && !(r.rcx >> 32) &&
			  !(r.rdx >> 32) && !(r.rsi >> 32) && memcmp(text, log_text, n) == 0,
		  "64-bit: LOG_READ gives the same bytes as from 32-bit code");
	r = (struct hc64_regs){ .rax = LAMINA_HC_BASE + 0x7f };
	vec = lm_hypercall(&r, cpu_is_amd());
	tap_eq(r.rax, (u64)(s64)LAMINA_E_NOFUNC, "64-bit: an error status is sign-extended");
}

static struct hc_regs user_version, user_selfcheck, user_meminfo;
static int user_vec[3];

static void ring3_calls(void)
{
	user_version.eax = LAMINA_HC_VERSION;
	user_vec[0] = hc_call(&user_version);
	user_selfcheck.eax = LAMINA_HC_SELFCHECK;
	user_vec[1] = hc_call(&user_selfcheck);
	user_meminfo.eax = LAMINA_HC_MEMINFO;
	user_vec[2] = hc_call(&user_meminfo);
}

static void check_ring3(void)
{
	ring3_run(ring3_calls);
	if (!lamina_present()) {
		/* Bare, the instruction faults in ring 3 as in ring 0. */
		tap_vec(user_vec[0], VEC_UD, "ring 3: the hypercall instruction raises #UD bare");
		return;
	}
	tap_check(user_vec[0] == TRAP_NONE && user_version.eax == 0 &&
			  user_version.ebx == LAMINA_SIGNATURE,
		  "ring 3: VERSION works");
	tap_check(user_vec[2] == TRAP_NONE && user_meminfo.eax == 0 &&
			  hc_pair(user_meminfo.ebx, user_meminfo.ecx) == hv_base &&
			  hc_pair(user_meminfo.edx, user_meminfo.esi) == hv_size,
		  "ring 3: MEMINFO works");
	tap_check(user_vec[1] == TRAP_NONE, "ring 3: SELFCHECK raises no exception (%s)",
		  vector_name(user_vec[1]));
	tap_eq((u32)hc_status(&user_selfcheck), (u32)LAMINA_E_PERM,
	       "ring 3: SELFCHECK is LAMINA_E_PERM");
}

static void check_selfcheck(void)
{
	struct hc_regs r = { .eax = LAMINA_HC_SELFCHECK };

	hc_call(&r);
	tap_check(r.eax == 0 && r.ebx == 1, "selfcheck: lamina intact (status %d, EBX %u)",
		  hc_status(&r), r.ebx);
}

static void check_other_instruction(void)
{
	struct hc_regs r = { .eax = LAMINA_HC_VERSION };

	tap_vec(hc_call_other(&r), VEC_UD, "the other vendor's hypercall instruction raises #UD");
}

void test_main(void)
{
	check_boot_state();
	check_modules();
	acpi_find_cpus(&cpus);
	check_other_instruction();
	if (lamina_present()) {
		check_version();
		check_exit_counts();
		check_meminfo();
		check_unknown_function();
		check_log_read();
		check_selfcheck();
		check_64bit();
	} else {
		tap_skip("bare", "hypercalls from ring 0");
		check_64bit();
	}
	check_ring3();
}
