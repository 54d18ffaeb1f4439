/* chaos: random operations at lamina's intercepts, from every CPU at once,
 * each answer checked against what the hardware or the hypercall ABI
 * promises:
 *  - every CPU: CPUID of random leaves (the same answer twice; VMX and
 *    SVM hidden under lamina), hypercalls with random functions and
 *    arguments (the status the ABI gives them), variable MTRRs written
 *    back, PCI configuration reads (and some writes of what was read)
 *    through CF8/CFC in every width and lane, and through ECAM where
 *    there is one, compared with a table of vendor IDs taken at start
 *    (random writes to functions that read all-ones, concealed ones
 *    among them, must leave them so), the MMIO emulator (with page=,
 *    lamina's mmiotest= page: MOV, ALU, XCHG, BTS/BTC and REP MOVSB/STOSB
 *    on each CPU's slot of it, compared with the same on RAM), ports
 *    lamina hooks (CMOS registers compared with a table taken at start
 *    and written back, reads in every width and alignment), and loads and stores at lamina's own memory (all-ones, dropped);
 *  - the BSP also: MSRs of every kind lamina intercepts and some it does
 *    not, read twice and written with one bit flipped, then put back (a
 *    write either takes or raises #GP, and the guest can always restore
 *    the old value); guest state MSRs written and read back across exits;
 *    CR0 and CR4 bits flipped (a write takes exactly or raises #GP);
 *    XSETBV with random masks (#GP exactly when the SDM says); and
 *    hypercalls from ring 3.
 * At the end lamina checks its memory (SELFCHECK) and every AP reports
 * how many operations it made. The same seed gives the same operations.
 *
 * Options: seed=N, rounds=N (the BSP's operations; APs go on until it is
 * done), trace=1 (print each of the BSP's operations and MSR bit flips),
 * trace=2 (the APs' as well), to find the one a hang follows. */
#include "acpi.h"
#include "ap.h"
#include "apic.h"
#include "boot.h"
#include "cpu.h"
#include "hc.h"
#include "print.h"
#include "tap.h"
#include "timer.h"
#include "trap.h"
#include "util.h"

const char test_name[] = "chaos";
const char *const test_options[] = { "seed", "rounds", "trace", "page", NULL };

#define PORT_ADDR 0xcf8
#define PORT_DATA 0xcfc
#define NBDF 256 /* bus 0: devices 0-31, functions 0-7 */
#define AP_TIMEOUT_US 20000000ull
#define MAX_NOTES 24 /* failures described in full */

enum op {
	OP_CPUID,
	OP_HYPERCALL,
	OP_MTRR,
	OP_PCI,
	OP_HOME,
	OP_MMIO,
	OP_PORTS,
	OP_SHARED, /* the operations every CPU makes; the BSP's alone follow */
	OP_MSR_READ = OP_SHARED,
	OP_MSR_FLIP,
	OP_MSR_STATE,
	OP_CR_FLIP,
	OP_XSETBV,
	OP_RING3,
	OP_COUNT
};

static const char *const op_name[OP_COUNT] = {
	"CPUID", "hypercalls", "MTRR write-backs", "PCI configuration accesses",
	"accesses to lamina's memory", "emulated MMIO instructions",
	"accesses to ports lamina hooks", "MSR reads", "MSR bit flips", "guest-state MSRs",
	"CR0/CR4 bit flips", "XSETBV", "ring-3 hypercalls",
};

static volatile u32 done[OP_COUNT], bad[OP_COUNT];
static volatile u32 notes;
static volatile u32 stop, aps_done, ap_ops, aps_started;
static volatile u32 pci_lock;

static struct acpi_cpus cpus;
static u32 vendor_id[NBDF]; /* dword 0 of each function on bus 0 */
static u32 ecam_base;
static u8 cmos_table[0x40]; /* CMOS registers 0x10-0x3f at start */
static volatile u32 cmos_lock;
static u64 home_base, home_size;
static bool on_lamina, home_reachable;
static u32 mmio_page; /* option page=: lamina's test page (its mmiotest=) */
static u8 mmio_shadow[ACPI_MAX_CPUS][64]; /* each CPU's slot, as RAM */
static u32 n_mtrr;
static u32 trace_level; /* option trace= */

struct rng {
	u64 s;
};

static u64 rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static u32 rnd_below(struct rng *r, u32 n)
{
	return (u32)(rnd(r) % n);
}

/* A failed operation: counted, and the first few described. */
static void __printf(2, 3) fail(enum op op, const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(&bad[op], 1, __ATOMIC_SEQ_CST);
	if (__atomic_fetch_add(&notes, 1, __ATOMIC_SEQ_CST) >= MAX_NOTES)
		return;
	va_start(ap, fmt);
	kprintf("#   CPU %u, %s: ", cpuid(1).ebx >> 24, op_name[op]);
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
}

/* ---- operations every CPU makes (none of them may fault) ---- */

static u32 random_leaf(struct rng *r)
{
	static const u32 base[] = { 0, 0x40000000, 0x80000000 };
	u32 pick = rnd_below(r, 8);

	return pick < 6 ? base[pick % 3] + rnd_below(r, 0x24) : (u32)rnd(r);
}

static void op_cpuid(struct rng *r)
{
	u32 leaf = random_leaf(r), sub = rnd_below(r, 4) ? rnd_below(r, 8) : (u32)rnd(r);
	struct cpuid_regs a = cpuid_count(leaf, sub), b = cpuid_count(leaf, sub);

	if (memcmp(&a, &b, sizeof(a)) != 0)
		fail(OP_CPUID, "leaf %#x.%#x answered differently twice", leaf, sub);
	if (on_lamina && leaf == 1 && (a.ecx & BIT(5)))
		fail(OP_CPUID, "leaf 1 shows VMX");
	if (on_lamina && leaf == 0x80000001 && (a.ecx & BIT(2)))
		fail(OP_CPUID, "leaf 0x80000001 shows SVM");
}

/* VMMCALL/VMCALL without a probe: APs must not touch the probes' shared
 * state, and a hypercall under lamina never faults. */
static void hc_unprobed(struct hc_regs *h)
{
	if (cpu_is_amd())
		__asm__ volatile("vmmcall"
				 : "+a"(h->eax), "+b"(h->ebx), "+c"(h->ecx), "+d"(h->edx),
				   "+S"(h->esi)::"memory");
	else
		__asm__ volatile("vmcall"
				 : "+a"(h->eax), "+b"(h->ebx), "+c"(h->ecx), "+d"(h->edx),
				   "+S"(h->esi)::"memory");
}

/* A random call: mostly the defined functions (SELFCHECK aside, which
 * prints on lamina's console), sometimes any number. */
static void random_call(struct rng *r, struct hc_regs *h)
{
	u32 f = rnd_below(r, 7);

	h->eax = f == 6 ? (u32)rnd(r) : LAMINA_HC_BASE + f - 1;
	if (h->eax == LAMINA_HC_SELFCHECK)
		h->eax = LAMINA_HC_VERSION;
	h->ebx = rnd_below(r, 2) ? rnd_below(r, cpus.count + 2) : (u32)rnd(r);
	h->ecx = rnd_below(r, 2) ? rnd_below(r, 40) : (u32)rnd(r);
	h->edx = (u32)rnd(r);
	h->esi = (u32)rnd(r);
}

/* The status the ABI gives this call (LOG_READ: -5 stands for "a byte
 * count 0-16 or LAMINA_E_RANGE"). */
static s32 status_due(const struct hc_regs *in, bool ring3)
{
	switch (in->eax) {
	case LAMINA_HC_VERSION:
	case LAMINA_HC_MEMINFO:
		return 0;
	case LAMINA_HC_EXIT_COUNT:
		return in->ebx < cpus.count ? 0 : LAMINA_E_INVAL;
	case LAMINA_HC_SELFCHECK:
		return ring3 ? LAMINA_E_PERM : 0;
	case LAMINA_HC_LOG_READ:
		return -5;
	default:
		return LAMINA_E_NOFUNC;
	}
}

static bool status_ok(const struct hc_regs *in, const struct hc_regs *out, bool ring3)
{
	s32 due = status_due(in, ring3), got = hc_status(out);

	if (due == -5)
		return (got >= 0 && got <= 16) || got == LAMINA_E_RANGE;
	if (got != due)
		return false;
	if (in->eax == LAMINA_HC_VERSION)
		return out->ebx == LAMINA_SIGNATURE && out->esi == cpus.count;
	if (in->eax == LAMINA_HC_MEMINFO)
		return hc_pair(out->ebx, out->ecx) == home_base &&
		       hc_pair(out->edx, out->esi) == home_size;
	return true;
}

static void op_hypercall(struct rng *r)
{
	struct hc_regs in, out;

	random_call(r, &in);
	out = in;
	hc_unprobed(&out);
	if (!status_ok(&in, &out, false))
		fail(OP_HYPERCALL, "function %#x (ebx %#x ecx %#x) gave status %d", in.eax, in.ebx,
		     in.ecx, hc_status(&out));
}

/* A variable MTRR written back as it is: the guest's own MTRRs, which
 * lamina checks against its memory on every write. */
static void op_mtrr(struct rng *r)
{
	u32 msr = MSR_MTRR_PHYS_BASE(0) + rnd_below(r, 2 * n_mtrr);
	u64 old = rdmsr(msr);

	wrmsr(msr, old);
	if (rdmsr(msr) != old)
		fail(OP_MTRR, "MSR %#x read %#llx after the same was written", msr,
		     (unsigned long long)old);
}

static void lock(volatile u32 *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

static void unlock(volatile u32 *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static u32 cfg_in(u32 port, u32 width)
{
	u32 v;

	if (width == 1) {
		u8 b;
		__asm__ volatile("inb %w1, %0" : "=a"(b) : "Nd"((u16)port));
		v = b;
	} else if (width == 2) {
		u16 w;
		__asm__ volatile("inw %w1, %0" : "=a"(w) : "Nd"((u16)port));
		v = w;
	} else {
		__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"((u16)port));
	}
	return v;
}

static void cfg_out(u32 port, u32 width, u32 v)
{
	if (width == 1)
		__asm__ volatile("outb %b0, %w1" ::"a"(v), "Nd"((u16)port));
	else if (width == 2)
		__asm__ volatile("outw %w0, %w1" ::"a"(v), "Nd"((u16)port));
	else
		__asm__ volatile("outl %0, %w1" ::"a"(v), "Nd"((u16)port));
}

/* One configuration read through CF8/CFC; the lock stands for the one an
 * OS takes around the pair. */
static u32 cf8_access(u32 bdf, u32 reg, u32 width, bool write, u32 v)
{
	lock(&pci_lock);
	cfg_out(PORT_ADDR, 4, BIT(31) | bdf << 8 | (reg & 0xfc));
	if (write)
		cfg_out(PORT_DATA + (reg & 3), width, v);
	else
		v = cfg_in(PORT_DATA + (reg & 3), width);
	unlock(&pci_lock);
	return v;
}

/* A function on bus 0: mostly one that is there. */
static u32 random_bdf(struct rng *r)
{
	for (u32 tries = 0; tries < 8; tries++) {
		u32 bdf = rnd_below(r, NBDF);

		if (vendor_id[bdf] != ~0u)
			return bdf;
	}
	return rnd_below(r, NBDF);
}

static void op_pci(struct rng *r)
{
	u32 bdf = random_bdf(r), width = 1u << rnd_below(r, 3);
	u32 reg = rnd_below(r, 0x100) & ~(width - 1), v;

	if (rnd_below(r, 4) == 0) { /* the table's dword, through both ways */
		v = cf8_access(bdf, 0, 4, false, 0);
		if (v != vendor_id[bdf])
			fail(OP_PCI, "%02x.%x register 0 read %#x through CF8/CFC, %#x at start",
			     bdf >> 3, bdf & 7, v, vendor_id[bdf]);
		if (ecam_base && (v = mmio_read32(ecam_base + (bdf << 12))) != vendor_id[bdf])
			fail(OP_PCI, "%02x.%x register 0 read %#x through ECAM, %#x at start",
			     bdf >> 3, bdf & 7, v, vendor_id[bdf]);
		return;
	}
	v = cf8_access(bdf, reg, width, false, 0);
	if (rnd_below(r, 4) != 0)
		return;
	/* Writing back what was read changes nothing but write-one-to-clear
	 * status bits. A function that reads all-ones (absent, or concealed
	 * by lamina) takes any write and must go on reading all-ones: the
	 * table check above. */
	if (vendor_id[bdf] == ~0u)
		v = (u32)rnd(r);
	cf8_access(bdf, reg, width, true, v);
}

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71

/* A CMOS register outside the clock (0x10-0x3f), NMIs left enabled. */
static u8 cmos_access(u32 reg, bool write, u8 v)
{
	lock(&cmos_lock);
	cfg_out(CMOS_INDEX, 1, reg);
	if (write)
		cfg_out(CMOS_DATA, 1, v);
	else
		v = (u8)cfg_in(CMOS_DATA, 1);
	unlock(&cmos_lock);
	return v;
}

/* Ports lamina hooks on some machine: CMOS (and its alias), QEMU's
 * kvmvapic port, port 0x92 (A20), the configuration ports. Reads in any
 * width and alignment; the CMOS registers also written back. */
static void op_ports(struct rng *r)
{
	static const u16 ports[] = { 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
				     0x7e, 0x92, 0xcf8, 0xcf9, 0xcfa, 0xcfb, 0xcfc, 0xcfd,
				     0xcfe, 0xcff };
	u32 reg = 0x10 + rnd_below(r, 0x30), got;
	u16 port = ports[rnd_below(r, ARRAY_SIZE(ports))];

	if (rnd_below(r, 2)) {
		if (rnd_below(r, 4) == 0)
			cmos_access(reg, true, cmos_table[reg]);
		got = cmos_access(reg, false, 0);
		if (got != cmos_table[reg])
			fail(OP_PORTS, "CMOS register %#x reads %#x, %#x at start", reg, got,
			     cmos_table[reg]);
		return;
	}
	/* The CMOS pair and the configuration pair under their locks, as an
	 * OS would: a read of port 0x71 between another CPU's index and
	 * data would be that CPU's. */
	lock(port < 0x80 ? &cmos_lock : &pci_lock);
	cfg_in(port, 1u << rnd_below(r, 3));
	unlock(port < 0x80 ? &cmos_lock : &pci_lock);
}

/* Four pages of lamina's memory (a few log lines, not thousands). */
static void op_home(struct rng *r)
{
	static const u32 page_of_16[] = { 0, 1, 8, 15 };
	u64 page = home_size / 16 * page_of_16[rnd_below(r, 4)] / 4096;
	u32 addr = (u32)(home_base + page * 4096 + (rnd_below(r, 4096) & ~3u));
	u32 before = mmio_read32(addr), after;

	mmio_write32(addr, (u32)rnd(r));
	after = mmio_read32(addr);
	if (before != ~0u || after != ~0u)
		fail(OP_HOME, "%#x read %#x, then %#x after a write", addr, before, after);
}

/* ---- the MMIO emulator, on every CPU at once ---- */

/* Each CPU has a 64-byte slot of the test page and a RAM copy of it
 * that the same operations reach natively. */
static u8 *slot_of(u32 cpu)
{
	return phys(mmio_page + 64 * cpu);
}

/* The CPU's index in the MADT's list (APIC IDs may be sparse or past
 * the slots' count). */
static u32 this_slot(void)
{
	u32 id = cpuid(1).ebx >> 24;

	for (u32 i = 0; i < cpus.count; i++)
		if (cpus.apic_id[i] == id)
			return i;
	return 0;
}

static void mmio_slot_clear(void)
{
	u32 cpu = this_slot();

	for (u32 i = 0; i < 64; i += 4)
		mmio_write32((u32)slot_of(cpu) + i, 0);
	memset(mmio_shadow[cpu], 0, 64);
}

/* One read-modify-write form on both copies; false if their results
 * (a returned value or CF) differ. */
static bool mmio_rmw(struct rng *r, volatile u32 *dev, u32 *ram)
{
	u32 v = (u32)rnd(r), a = v, b = v, bit = rnd_below(r, 32);
	u8 cfa, cfb;

	switch (rnd_below(r, 6)) {
	case 0:
		__asm__ volatile("addl %1, %0" : "+m"(*dev) : "r"(v));
		__asm__ volatile("addl %1, %0" : "+m"(*ram) : "r"(v));
		return true;
	case 1:
		__asm__ volatile("xorl %1, %0" : "+m"(*dev) : "r"(v));
		__asm__ volatile("xorl %1, %0" : "+m"(*ram) : "r"(v));
		return true;
	case 2:
		__asm__ volatile("andl %1, %0" : "+m"(*dev) : "r"(v | 0x0f0f0f0f));
		__asm__ volatile("andl %1, %0" : "+m"(*ram) : "r"(v | 0x0f0f0f0f));
		return true;
	case 3:
		__asm__ volatile("xchgl %0, %1" : "+r"(a), "+m"(*dev));
		__asm__ volatile("xchgl %0, %1" : "+r"(b), "+m"(*ram));
		return a == b;
	case 4:
		__asm__ volatile("btsl %2, %1; setc %0" : "=q"(cfa), "+m"(*dev) : "r"(bit));
		__asm__ volatile("btsl %2, %1; setc %0" : "=q"(cfb), "+m"(*ram) : "r"(bit));
		return cfa == cfb;
	default:
		__asm__ volatile("btcl %2, %1; setc %0" : "=q"(cfa), "+m"(*dev) : "r"(bit));
		__asm__ volatile("btcl %2, %1; setc %0" : "=q"(cfb), "+m"(*ram) : "r"(bit));
		return cfa == cfb;
	}
}

/* A string form: REP MOVSB from RAM into the slot, or REP STOSB. */
static void mmio_string(struct rng *r, u8 *dev, u8 *ram)
{
	static const u8 pattern[64] = "lamina chaos: bytes moved into the test page by REP MOVSB.";
	u32 n = 1 + rnd_below(r, 16), at = rnd_below(r, 64 - n), n2 = n;
	u8 *d = dev + at, *d2 = ram + at, fill = (u8)rnd(r);
	const u8 *src = pattern + rnd_below(r, 64 - n), *src2 = src;

	if (rnd_below(r, 2)) {
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n)::"memory");
		__asm__ volatile("rep movsb" : "+D"(d2), "+S"(src2), "+c"(n2)::"memory");
	} else {
		__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(fill) : "memory");
		__asm__ volatile("rep stosb" : "+D"(d2), "+c"(n2) : "a"(fill) : "memory");
	}
}

static void op_mmio(struct rng *r)
{
	u32 cpu = this_slot(), at = rnd_below(r, 16) * 4, v = (u32)rnd(r);
	u8 *dev = slot_of(cpu), *ram = mmio_shadow[cpu];
	bool same = true;

	switch (rnd_below(r, 4)) {
	case 0:
		mmio_write32((u32)dev + at, v);
		*(u32 *)(ram + at) = v;
		break;
	case 1:
		same = mmio_rmw(r, (volatile u32 *)(dev + at), (u32 *)(ram + at));
		break;
	case 2:
		mmio_string(r, dev, ram);
		break;
	default:
		for (u32 i = 0; i < 64; i += 4)
			same &= mmio_read32((u32)dev + i) == *(u32 *)(ram + i);
		break;
	}
	if (!same)
		fail(OP_MMIO, "slot %u of the test page differs from its copy in RAM", cpu);
}

static void shared_op(struct rng *r, enum op op)
{
	switch (op) {
	case OP_CPUID:
		op_cpuid(r);
		break;
	case OP_HYPERCALL:
		if (!on_lamina)
			return op_cpuid(r);
		op_hypercall(r);
		break;
	case OP_MTRR:
		if (!n_mtrr)
			return op_cpuid(r);
		op_mtrr(r);
		break;
	case OP_PCI:
		op_pci(r);
		break;
	case OP_HOME:
		if (!home_reachable)
			return op_cpuid(r);
		op_home(r);
		break;
	case OP_PORTS:
		op_ports(r);
		break;
	case OP_MMIO:
		if (!mmio_page)
			return op_cpuid(r);
		op_mmio(r);
		break;
	default:
		break;
	}
	__atomic_add_fetch(&done[op], 1, __ATOMIC_SEQ_CST);
}

static void chaos_ap(void)
{
	struct rng r = { 0x9e3779b97f4a7c15ull ^ (u64)(cpuid(1).ebx >> 24) << 32 ^
			 boot_opt_num("seed", 1) };
	u32 ops = 0;

	if (mmio_page)
		mmio_slot_clear();
	__atomic_add_fetch(&aps_started, 1, __ATOMIC_SEQ_CST);
	while (!stop) {
		enum op op = (enum op)rnd_below(&r, OP_SHARED);

		if (trace_level > 1)
			kprintf("# ap %u op %u\n", ops, op);
		shared_op(&r, op);
		ops++;
	}
	__atomic_add_fetch(&ap_ops, ops, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&aps_done, 1, __ATOMIC_SEQ_CST);
}


/* ---- the BSP's own operations (probes: only the BSP may fault) ---- */

struct msr_range {
	u32 first, last;
};

/* What lamina intercepts on either vendor (core/msr.c), and neighbours. */
static const struct msr_range intercepted[] = {
	{ 0x1b, 0x1b },		    /* APIC_BASE */
	{ 0x3a, 0x3a },		    /* FEATURE_CONTROL */
	{ 0x150, 0x150 },	    /* Intel overclocking mailbox */
	{ 0x1a0, 0x1a0 },	    /* MISC_ENABLE */
	{ 0x200, 0x213 },	    /* variable MTRRs */
	{ 0x2ff, 0x2ff },	    /* MTRR_DEF_TYPE */
	{ 0x3f1, 0x3f1 },	    /* PEBS_ENABLE */
	{ 0x480, 0x493 },	    /* VMX capabilities */
	{ 0x560, 0x561 },	    /* Processor Trace */
	{ 0x570, 0x572 },
	{ 0x580, 0x587 },
	{ 0xda0, 0xda0 },	    /* IA32_XSS */
	{ 0xc0000080, 0xc0000080 }, /* EFER */
	{ 0xc0010010, 0xc0010010 }, /* SYSCFG */
	{ 0xc0010016, 0xc001001a }, /* IORRs, TOP_MEM */
	{ 0xc001001d, 0xc001001d }, /* TOM2 */
	{ 0xc0010056, 0xc0010058 }, /* SMI trigger, MMIO_CFG_BASE */
	{ 0xc0010064, 0xc001006b }, /* P-state definitions */
	{ 0xc0010070, 0xc0010070 }, /* COFVID */
	{ 0xc0010111, 0xc0010117 }, /* SMM base/mask, VM_CR, SMM_CTL, HSAVE */
};

static u32 pick_msr(struct rng *r, const struct msr_range *t, u32 n)
{
	const struct msr_range *m = &t[rnd_below(r, n)];

	return m->first + rnd_below(r, m->last - m->first + 1);
}

static bool vec_ok(int vec)
{
	return vec == TRAP_NONE || vec == VEC_GP;
}

/* Reads twice: the same outcome; for what lamina intercepts (no counters
 * among them) the same value. Elsewhere, anywhere in the MSR space. */
static void op_msr_read(struct rng *r)
{
	static const u32 region[] = { 0, 0x40000000, 0xc0000000, 0xc0010000, 0xc0011000 };
	bool listed = rnd_below(r, 3) != 0;
	u32 msr = listed ? pick_msr(r, intercepted, ARRAY_SIZE(intercepted))
			 : region[rnd_below(r, ARRAY_SIZE(region))] + rnd_below(r, 0x2000);
	u64 a = 0, b = 0;
	int va, vb;

	if (rnd_below(r, 16) == 0)
		msr = (u32)rnd(r);
	va = rdmsr_probe(msr, &a);
	vb = rdmsr_probe(msr, &b);
	if (!vec_ok(va) || va != vb)
		fail(OP_MSR_READ, "MSR %#x: %s, then %s", msr, vector_name(va), vector_name(vb));
	else if (listed && va == TRAP_NONE && a != b)
		fail(OP_MSR_READ, "MSR %#x read %#llx, then %#llx", msr, (unsigned long long)a,
		     (unsigned long long)b);
}

#define CR4_PAE BIT(5)

/* One bit flipped: the write takes or raises #GP, and writing the old
 * value back leaves the MSR as it was. APIC_BASE keeps its enable and
 * x2APIC bits (the APIC's own mode rules, and lamina's NMIs to it),
 * FEATURE_CONTROL its lock bit.
 * EFER.LME is set only with CR4.PAE: QEMU 7.2's #VMEXIT loads the host's
 * CR0 while the guest's EFER and CR4 are still in place, and refuses to
 * turn paging on for LME without PAE, so an exit in that (legal) state
 * leaves lamina running without paging (docs/architecture.md). */
static void op_msr_flip(struct rng *r)
{
	u32 msr = pick_msr(r, intercepted, ARRAY_SIZE(intercepted)), bit = rnd_below(r, 64);
	u32 cr4 = read_cr4();
	bool lme_needs_pae = msr == MSR_EFER && bit == 8 && !(cr4 & CR4_PAE);
	u64 old, now = 0;
	int vec;

	if (rdmsr_probe(msr, &old) != TRAP_NONE)
		return;
	if (msr == MSR_APIC_BASE && (bit == 10 || bit == 11))
		bit = 12 + rnd_below(r, 20);
	if (msr == MSR_FEATURE_CONTROL && bit == 0)
		bit = 1; /* the lock: once set, it stays (Bochs's AMD models have the MSR) */
	if (trace_level)
		kprintf("# flip MSR %#x (%#llx) bit %u\n", msr, (unsigned long long)old, bit);
	if (lme_needs_pae)
		write_cr4(cr4 | CR4_PAE);
	vec = wrmsr_probe(msr, old ^ (1ull << bit));
	if (!vec_ok(vec))
		fail(OP_MSR_FLIP, "MSR %#x bit %u: %s", msr, bit, vector_name(vec));
	wrmsr_probe(msr, old);
	if (lme_needs_pae)
		write_cr4(cr4);
	if (rdmsr_probe(msr, &now) != TRAP_NONE || now != old)
		fail(OP_MSR_FLIP, "MSR %#x reads %#llx after bit %u was flipped (%s) and %#llx put back",
		     msr, (unsigned long long)now, bit, vector_name(vec), (unsigned long long)old);
}

static u64 canonical(struct rng *r)
{
	u64 v = rnd(r) & ((1ull << 48) - 1);

	return v & BIT(47) ? v | ~((1ull << 48) - 1) : v;
}

/* A valid value for each of the guest's own state MSRs: the back ends
 * switch these (VMCB save area and VMLOAD/VMSAVE, VMCS guest fields). */
static u64 state_value(struct rng *r, u32 msr)
{
	static const u8 pat_types[] = { 0, 1, 4, 5, 6, 7 };
	u64 v = 0;

	switch (msr) {
	case 0x174: /* SYSENTER_CS */
		return rnd(r) & 0xffff;
	case 0x1d9: /* DEBUGCTL: LBR, BTF */
		return rnd(r) & 3;
	case 0x277: /* PAT */
		for (int i = 0; i < 8; i++)
			v |= (u64)pat_types[rnd_below(r, ARRAY_SIZE(pat_types))] << (8 * i);
		return v;
	case 0xc0000081: /* STAR */
		return rnd(r);
	case 0xc0000084: /* SFMASK */
	case 0xc0000103: /* TSC_AUX */
		return rnd(r) & 0xffffffff;
	default:
		return canonical(r); /* SYSENTER_ESP/EIP, [LC]STAR, FS/GS bases */
	}
}

/* Exits of three kinds, whatever the vendor: CPUID, a hypercall and a
 * configuration-port access. */
static void provoke_exits(void)
{
	struct hc_regs h = { .eax = LAMINA_HC_VERSION };

	cpuid(0);
	if (on_lamina)
		hc_unprobed(&h);
	cf8_access(0, 0, 4, false, 0);
}

/* Whether a state MSR holds what was written: emulators drop DEBUGCTL's
 * LBR and BTF (QEMU ignores the MSR), and AMD CPUs keep only the low 32
 * bits of SYSENTER_ESP/EIP. */
static bool write_held(u32 msr, u64 val, u64 now)
{
	if (msr == 0x1d9)
		return true;
	if (msr == 0x175 || msr == 0x176)
		return (u32)now == (u32)val;
	return now == val;
}

/* Written, read back, read again after exits: lamina's world switches
 * must carry the guest's value through. */
static void op_msr_state(struct rng *r)
{
	static const struct msr_range state[] = {
		{ 0x174, 0x176 }, { 0x1d9, 0x1d9 }, { 0x277, 0x277 },
		{ 0xc0000081, 0xc0000084 }, { 0xc0000100, 0xc0000103 },
	};
	u32 msr = pick_msr(r, state, ARRAY_SIZE(state));
	u64 old, val = state_value(r, msr), first = 0, later = 0;

	if (rdmsr_probe(msr, &old) != TRAP_NONE)
		return;
	if (wrmsr_probe(msr, val) != TRAP_NONE) {
		fail(OP_MSR_STATE, "MSR %#x: a write of %#llx (valid) faulted", msr,
		     (unsigned long long)val);
		return;
	}
	rdmsr_probe(msr, &first);
	provoke_exits();
	rdmsr_probe(msr, &later);
	wrmsr_probe(msr, old);
	if (!write_held(msr, val, first))
		fail(OP_MSR_STATE, "MSR %#x read %#llx right after %#llx was written", msr,
		     (unsigned long long)first, (unsigned long long)val);
	if (later != first)
		fail(OP_MSR_STATE, "MSR %#x read %#llx after %#llx was written, %#llx after exits",
		     msr, (unsigned long long)first, (unsigned long long)val,
		     (unsigned long long)later);
}

/* CR0 bits that leave protection, paging and the CD/NW pair alone (NW
 * without CD is a #GP on hardware, and an invalid VMCB on QEMU 7.2, which
 * lets MOV CR0 take it). */
#define CR0_FLIPPABLE (BIT(1) | BIT(2) | BIT(3) | BIT(5) | BIT(16) | BIT(18) | BIT(30))

/* The CR4 bits this CPU defines. QEMU 7.2 answers a MOV to CR4 with a
 * reserved bit set not with #GP but with an SVM "invalid state" exit
 * (its misc_helper.c), which stops the guest under lamina and hangs it
 * bare: reserved bits are left alone. VMXE exists on Intel whatever
 * CPUID says under lamina, which shadows it. */
static u32 cr4_defined(void)
{
	struct cpuid_regs l1 = cpuid(1), l7 = { 0 };
	u32 m = 0x7ff; /* VME ... OSXMMEXCPT */

	if (cpuid(0).eax >= 7)
		l7 = cpuid_count(7, 0);

	m |= l7.ecx & BIT(2) ? BIT(11) : 0;	   /* UMIP */
	m |= l7.ecx & BIT(16) ? BIT(12) : 0;	   /* LA57 */
	m |= cpu_is_intel() ? BIT(13) : 0;	   /* VMXE */
	m |= l1.ecx & BIT(6) ? BIT(14) : 0;	   /* SMXE */
	m |= l7.ebx & BIT(0) ? BIT(16) : 0;	   /* FSGSBASE */
	m |= l1.ecx & BIT(17) ? BIT(17) : 0;	   /* PCIDE */
	m |= l1.ecx & BIT(26) ? BIT(18) : 0;	   /* OSXSAVE */
	m |= l7.ebx & BIT(7) ? BIT(20) : 0;	   /* SMEP */
	m |= l7.ebx & BIT(20) ? BIT(21) : 0;	   /* SMAP */
	m |= l7.ecx & BIT(3) ? BIT(22) : 0;	   /* PKE */
	m |= l7.ecx & BIT(7) ? BIT(23) : 0;	   /* CET */
	m |= l7.ecx & BIT(31) ? BIT(24) : 0;	   /* PKS */
	return m;
}

/* A CR0 or CR4 bit flipped: the write takes exactly (it reads back as
 * written) or raises #GP and changes nothing. */
static void op_cr_flip(struct rng *r)
{
	bool cr4 = rnd_below(r, 2);
	u32 old = cr4 ? read_cr4() : read_cr0(), mask = cr4 ? cr4_defined() : CR0_FLIPPABLE;
	u32 bit, now;
	int vec;

	do
		bit = BIT(rnd_below(r, 32));
	while (!(bit & mask));
	vec = cr4 ? write_cr4_probe(old ^ bit) : write_cr0_probe(old ^ bit);
	now = cr4 ? read_cr4() : read_cr0();
	if (!vec_ok(vec) || now != (vec == TRAP_NONE ? old ^ bit : old))
		fail(OP_CR_FLIP, "CR%c %#x ^ %#x: %s, reads %#x", cr4 ? '4' : '0', old, bit,
		     vector_name(vec), now);
	if (cr4)
		write_cr4(old);
	else
		write_cr0(old);
}

#define CR4_OSXSAVE BIT(18)

/* Whether XSETBV takes this XCR0 (SDM vol. 1, 13.3). */
static bool xcr0_valid(u64 m, u64 supported)
{
	if (!(m & 1) || (m & ~supported))
		return false;
	if ((m & 4) && !(m & 2))
		return false; /* AVX without SSE */
	if (!!(m & BIT(3)) != !!(m & BIT(4)))
		return false; /* half of MPX */
	if ((m & 0xe0) && ((m & 0xe0) != 0xe0 || !(m & 4)))
		return false; /* part of AVX-512, or without AVX */
	return !!(m & BIT(17)) == !!(m & BIT(18)); /* half of AMX */
}

static void op_xsetbv(struct rng *r)
{
	struct cpuid_regs d = cpuid_count(0xd, 0);
	u64 supported = (u64)d.edx << 32 | d.eax, m = rnd(r) & supported, old, now = 0;
	u32 cr4 = read_cr4(), xcr = rnd_below(r, 16) ? 0 : 1;
	int vec, due;

	if (rnd_below(r, 8) == 0)
		m ^= 1ull << rnd_below(r, 64);
	if (rnd_below(r, 4))
		m |= 1;
	write_cr4(cr4 | CR4_OSXSAVE);
	xgetbv_probe(0, &old);
	due = xcr == 0 && xcr0_valid(m, supported) ? TRAP_NONE : VEC_GP;
	vec = xsetbv_probe(xcr, m);
	xgetbv_probe(0, &now);
	if (vec != due || now != (vec == TRAP_NONE ? m : old))
		fail(OP_XSETBV, "XCR%u %#llx (supported %#llx): %s, XCR0 reads %#llx", xcr,
		     (unsigned long long)m, (unsigned long long)supported, vector_name(vec),
		     (unsigned long long)now);
	xsetbv_probe(0, old);
	write_cr4(cr4);
}

static struct hc_regs ring3_regs;
static int ring3_vec;

static void ring3_call(void)
{
	ring3_vec = hc_call(&ring3_regs);
}

static void op_ring3(struct rng *r)
{
	struct hc_regs in;

	random_call(r, &in);
	if (rnd_below(r, 4) == 0)
		in.eax = LAMINA_HC_SELFCHECK;
	ring3_regs = in;
	ring3_run(ring3_call);
	if (ring3_vec != TRAP_NONE || !status_ok(&in, &ring3_regs, true))
		fail(OP_RING3, "function %#x (ebx %#x ecx %#x) from ring 3: %s, status %d", in.eax,
		     in.ebx, in.ecx, vector_name(ring3_vec), hc_status(&ring3_regs));
}

/* The BSP's operation `op`; false if this machine cannot make it. */
static bool bsp_op(struct rng *r, enum op op)
{
	switch (op) {
	case OP_MSR_READ:
		op_msr_read(r);
		return true;
	case OP_MSR_FLIP:
		op_msr_flip(r);
		return true;
	case OP_MSR_STATE:
		op_msr_state(r);
		return true;
	case OP_CR_FLIP:
		op_cr_flip(r);
		return true;
	case OP_XSETBV:
		if (!cpu_has(1, CPUID_ECX, 26))
			return false;
		op_xsetbv(r);
		return true;
	case OP_RING3:
		if (!on_lamina)
			return false;
		op_ring3(r);
		return true;
	default:
		shared_op(r, op);
		return false; /* shared_op counted it */
	}
}

/* ---- set-up and report ---- */

static void find_ecam(void)
{
	const u8 *mcfg = acpi_table("MCFG");

	if (mcfg && *(const u32 *)(mcfg + 4) >= 44 + 16)
		ecam_base = *(const u32 *)(mcfg + 44); /* segment 0's window */
	kprintf("# ECAM at %#x\n", ecam_base);
}

static bool setup(void)
{
	if (!tap_check(timer_init(), "timer: TSC calibrated against the PIT"))
		return false;
	if (!tap_check(acpi_find_cpus(&cpus) && cpus.count, "acpi: MADT lists CPUs") ||
	    !tap_check(apic_init(), "apic: BSP's local APIC enabled"))
		return false;
	on_lamina = lamina_present();
	trace_level = (u32)boot_opt_num("trace", 0);
	if (on_lamina)
		mmio_page = (u32)boot_opt_num("page", 0);
	if (mmio_page)
		mmio_slot_clear();
	if (on_lamina && hc_meminfo(&home_base, &home_size))
		home_reachable = home_base + home_size <= 0x100000000ull;
	if (cpu_has(1, CPUID_EDX, 12))
		n_mtrr = MIN((u32)rdmsr(MSR_MTRR_CAP) & 0xff, 10u);
	find_ecam();
	for (u32 bdf = 0; bdf < NBDF; bdf++)
		vendor_id[bdf] = cf8_access(bdf, 0, 4, false, 0);
	for (u32 reg = 0x10; reg < 0x40; reg++)
		cmos_table[reg] = cmos_access(reg, false, 0);
	kprintf("# %u CPUs, %u variable MTRRs, lamina's memory %#llx+%#llx%s\n", cpus.count,
		n_mtrr, (unsigned long long)home_base, (unsigned long long)home_size,
		home_reachable ? "" : " (not reached)");
	return true;
}

static bool start_aps(void)
{
	u32 vector = ap_tramp_install(chaos_ap), bsp = cpuid(1).ebx >> 24;
	u64 deadline = time_us() + AP_TIMEOUT_US;

	if (!tap_check(vector != 0, "smp: trampoline below 1 MiB"))
		return false;
	for (u32 i = 0; i < cpus.count; i++)
		if (cpus.apic_id[i] != bsp)
			apic_init_sipi_sipi(cpus.apic_id[i], 0, vector, 10000, 200);
	while (aps_started < cpus.count - 1 && time_us() < deadline)
		cpu_relax();
	return tap_eq(aps_started, cpus.count - 1, "smp: every AP started");
}

static void report(u32 rounds)
{
	u64 deadline = time_us() + AP_TIMEOUT_US;

	stop = 1;
	while (aps_done < aps_started && time_us() < deadline)
		cpu_relax();
	tap_eq(aps_done, aps_started, "every AP stopped when asked (%u operations in all)",
	       ap_ops);
	tap_check(ap_ops >= aps_started, "the APs made operations while the BSP made %u", rounds);
	for (u32 op = 0; op < OP_COUNT; op++) {
		if (!done[op]) {
			tap_skip("not on this machine", "chaos: %s", op_name[op]);
			continue;
		}
		tap_eq(bad[op], 0, "chaos: %u %s, each as it should be", done[op], op_name[op]);
	}
}

void test_main(void)
{
	struct rng r = { 0x9e3779b97f4a7c15ull ^ boot_opt_num("seed", 1) };
	u32 rounds = (u32)boot_opt_num("rounds", 2000);
	struct hc_regs h = { .eax = LAMINA_HC_SELFCHECK };

	if (!setup() || !start_aps())
		return;
	for (u32 i = 0; i < rounds; i++) {
		enum op op = (enum op)rnd_below(&r, OP_COUNT);

		if (trace_level)
			kprintf("# %u op %u\n", i, op);

		if (bsp_op(&r, op))
			__atomic_add_fetch(&done[op], 1, __ATOMIC_SEQ_CST);
	}
	report(rounds);
	if (!on_lamina)
		return;
	tap_vec(hc_call(&h), TRAP_NONE, "selfcheck: the hypercall returns");
	tap_eq(h.ebx, 1, "selfcheck: lamina's memory is intact after the chaos");
}
