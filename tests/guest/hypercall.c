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
static u32 hv_base, hv_size; /* from MEMINFO */

static void check_boot_state(void)
{
	tap_eq(boot_magic, MB_LOADER_MAGIC, "boot: EAX holds the Multiboot magic");
	tap_check((boot_cr0 & (CR0_PE | CR0_PG)) == CR0_PE,
		  "boot: protected mode, paging off (CR0=0x%x)", boot_cr0);
	tap_check(!(boot_eflags & (EFLAGS_VM | EFLAGS_IF)),
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
	tap_eq(r.ebx, (u32)LAMINA_MAGIC, "version: RBX holds the magic (low half)");
	tap_eq(r.ecx, LAMINA_VERSION_CODE, "version: RCX holds LAMINA_VERSION_CODE");
	tap_eq(r.edx, vendor, "version: RDX names the CPU vendor's extension");
	if (cpus.count)
		tap_eq(r.esi, cpus.count, "version: RSI counts the MADT's enabled CPUs");
	else
		tap_check(false, "version: RSI counts the MADT's enabled CPUs (no MADT)");
}

static struct hc_regs exit_counts(u32 cpu, u32 first)
{
	struct hc_regs r = { .eax = LAMINA_HC_EXIT_COUNTS, .ebx = cpu, .ecx = first };

	hc_call(&r);
	return r;
}

static void check_exit_counts(void)
{
	enum { N = 100 };
	struct hc_regs before = exit_counts(0, LAMINA_EXIT_CPUID), after, r;

	for (int i = 0; i < N; i++)
		cpuid(0, 0);
	after = exit_counts(0, LAMINA_EXIT_CPUID);
	tap_check(before.eax == 0 && after.eax == 0 && after.ebx - before.ebx >= N,
		  "exit counts: CPU 0's CPUID count grew by >= %u (by %u)", N,
		  after.ebx - before.ebx);
	r = exit_counts(0, LAMINA_EXIT_COUNT - 1);
	tap_check(r.eax == 0 && !r.ecx && !r.edx && !r.esi,
		  "exit counts: reasons past the last read 0");
	r = exit_counts(0, LAMINA_EXIT_COUNT);
	tap_check(r.eax == 0 && !r.ebx && !r.ecx && !r.edx && !r.esi,
		  "exit counts: from LAMINA_EXIT_COUNT on, all 0");
	r = exit_counts(cpus.count ? cpus.count : 64, 0);
	tap_eq((u32)hc_status(&r), (u32)LAMINA_E_INVAL,
	       "exit counts: a CPU index past the last is LAMINA_E_INVAL");
}

static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

static void check_meminfo(void)
{
	struct hc_regs r = { .eax = LAMINA_HC_MEMINFO };

	hc_call(&r);
	hv_base = r.ebx, hv_size = r.ecx;
	kprintf("# meminfo: lamina keeps %08x-%08x (%u MiB)\n", hv_base,
		hv_base + hv_size - 1, hv_size >> 20);
	tap_check(r.eax == 0 && hv_size && !(hv_base % SZ_2M) && !(hv_size % SZ_2M),
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

/* LOG_READ returns 32 bytes in RBX..RSI; 32-bit code sees bytes 0-3 of
 * each, so it reads 4 bytes at a time. */
static void check_log_read(void)
{
	static char text[8192];
	u32 len = 0;
	s32 status = 0;

	while (len + 4 <= sizeof(text)) {
		struct hc_regs r = { .eax = LAMINA_HC_LOG_READ, .ebx = len };

		hc_call(&r);
		status = hc_status(&r);
		if (status <= 0)
			break;
		memcpy(text + len, &r.ebx, 4);
		len += status < 4 ? (u32)status : 4;
	}
	kprintf("# log: read %u bytes, last status %d\n", len, status);
	tap_check(status >= 0 && mem_contains(text, len, "lamina"),
		  "log read: the log from offset 0 mentions lamina");
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
			  user_version.ebx == (u32)LAMINA_MAGIC,
		  "ring 3: VERSION works");
	tap_check(user_vec[2] == TRAP_NONE && user_meminfo.eax == 0 &&
			  user_meminfo.ebx == hv_base && user_meminfo.ecx == hv_size,
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
	tap_check(r.eax == 0 && r.ebx == 1, "selfcheck: lamina intact (status %d, rbx %u)",
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
	} else {
		tap_skip("bare", "hypercalls from ring 0");
	}
	check_ring3();
}
