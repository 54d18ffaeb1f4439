/* An HPET timer with FSB delivery on (Tn_FSB_EN_CNF) signals by writing
 * the value in its FSB route register to the address there: a memory
 * write of the device's, past the nested page tables, meant for the
 * local APICs' message range but not limited to it. QEMU and Bochs let
 * the guest turn it on whatever the timer's capability bit says, so a
 * timer aimed at lamina's code could rewrite it (found by a review
 * helper; shown by the protect kernel's hpet=1). lamina traps writes to
 * the HPET's page (reads pass: the guest's clocksource costs nothing)
 * and keeps FSB delivery to addresses in 0xfee00000-0xfeefffff: a write
 * that would turn it on toward anything else has the enable bit cleared,
 * and a new route elsewhere for a timer that has it on is dropped; both
 * logged (rate-limited). Not handled: the ICH's HPET relocation through
 * the chipset registers (HPTC), where real HPETs offer FSB delivery. */
#include <core/log.h>
#include <core/mmio.h>
#include <core/protect.h>
#include <core/spinlock.h>
#include <x86/acpi.h>
#include <x86/paging.h>

#define HPET_DEFAULT_BASE 0xfed00000ull
#define HPET_CAP 0x000
#define HPET_TIMER(n) (0x100 + 0x20 * (n))
#define HPET_T_CONF 0x00  /* within a timer's block */
#define HPET_T_FSB 0x10   /* value (low dword), address (high dword) */
#define HPET_T_FSB_EN BIT(14)
#define MSI_RANGE_BASE 0xfee00000u
#define MSI_RANGE_SIZE 0x100000u

static struct log_limit refusals = LOG_LIMIT("HPET FSB deliveries refused");
static spinlock_t hpet_lock = SPINLOCK_INIT;
static volatile u8 *hpet;
static unsigned int timers;

static bool message_address(u32 addr)
{
	return addr - MSI_RANGE_BASE < MSI_RANGE_SIZE;
}

static u64 hpet_read64(unsigned int off)
{
	return *(volatile u32 *)(hpet + off) | (u64) * (volatile u32 *)(hpet + off + 4) << 32;
}

static void hpet_page_read(struct vcpu *v, struct mmio_region *r, u64 gpa, void *data,
			   unsigned int size)
{
	u64 val = mem_read_sized(hpet + (gpa & 0xfff), size);

	__builtin_memcpy(data, &val, size);
}

/* reg64 with the guest's size bytes at offset off (within it) in place. */
static u64 merged(u64 reg64, unsigned int off, unsigned int size, u64 val)
{
	u64 mask = (size == 8 ? ~0ull : BIT(size * 8) - 1) << (off * 8);

	return (reg64 & ~mask) | ((val << (off * 8)) & mask);
}

/* The write after the policy: *val changed (the enable bit cleared), or
 * false to drop it. */
static bool filter_write(struct vcpu *v, unsigned int off, unsigned int size, u64 *val)
{
	unsigned int n = (off - HPET_TIMER(0)) / 0x20, in = (off - HPET_TIMER(0)) % 0x20;
	unsigned int reg = in & ~7u, at = in & 7;

	if (off < HPET_TIMER(0) || n >= timers || (reg != HPET_T_CONF && reg != HPET_T_FSB))
		return true;
	u64 conf = hpet_read64(HPET_TIMER(n) + HPET_T_CONF);
	u64 route = hpet_read64(HPET_TIMER(n) + HPET_T_FSB);
	if (reg == HPET_T_CONF) {
		u64 now = merged(conf, at, size, *val);
		if (!(now & HPET_T_FSB_EN) || message_address((u32)(route >> 32)))
			return true;
		if (log_limit_pass(&refusals))
			log_warn("CPU %u: the guest turned on HPET timer %u's FSB delivery toward "
				 "%#x, outside the APICs' message range: refused (the HPET would "
				 "write there itself, lamina's memory included)", v->cpu->index, n,
				 (u32)(route >> 32));
		*val &= ~(HPET_T_FSB_EN >> (at * 8));
		return true;
	}
	u64 now = merged(route, at, size, *val);
	if (!(conf & HPET_T_FSB_EN) || message_address((u32)(now >> 32)))
		return true;
	if (log_limit_pass(&refusals))
		log_warn("CPU %u: the guest aimed HPET timer %u's FSB delivery at %#x, outside the "
			 "APICs' message range: refused", v->cpu->index, n, (u32)(now >> 32));
	return false;
}

static void hpet_page_write(struct vcpu *v, struct mmio_region *r, u64 gpa,
			    const void *data, unsigned int size)
{
	unsigned int off = gpa & 0xfff;
	u64 val = 0;

	__builtin_memcpy(&val, data, size);
	spin_lock(&hpet_lock);
	if (filter_write(v, off, size, &val))
		mem_write_sized(hpet + off, size, val);
	spin_unlock(&hpet_lock);
}

static const struct mmio_ops hpet_ops = { hpet_page_read, hpet_page_write };
static struct mmio_region hpet_page = {
	.size = PAGE_SIZE, .name = "HPET", .ops = &hpet_ops, .trap_reads = false,
};

/* Where the ACPI HPET table puts it, else where PCs have it. */
static u64 hpet_base(void)
{
	const struct acpi_header *t = acpi_find("HPET", 0);

	if (t && t->length >= 52 && ((const u8 *)t)[40] == 0) /* system memory */
		return *(const u64 *)((const u8 *)t + 44) & ~0xfffull;
	return HPET_DEFAULT_BASE;
}

void hpet_guard_init(void)
{
	u64 base = hpet_base();

	hpet = io_map(base, PAGE_SIZE);
	u32 cap = *(volatile u32 *)(hpet + HPET_CAP);
	if (cap == 0 || cap == ~0u)
		return; /* nothing there */
	timers = ((cap >> 8) & 0x1f) + 1;
	/* Firmware leaves FSB delivery off; whatever aims elsewhere goes. */
	for (unsigned int n = 0; n < timers; n++) {
		volatile u32 *conf = (volatile u32 *)(hpet + HPET_TIMER(n) + HPET_T_CONF);
		if ((*conf & HPET_T_FSB_EN) &&
		    !message_address((u32)(hpet_read64(HPET_TIMER(n) + HPET_T_FSB) >> 32)))
			*conf &= ~(u32)HPET_T_FSB_EN;
	}
	hpet_page.base = base;
	if (mmio_register(&hpet_page))
		log_err("HPET at %#llx: its page cannot be trapped; a timer's FSB delivery could "
			"write over lamina", (unsigned long long)base);
	else
		log_info("HPET at %#llx (%u timers): writes trapped, FSB delivery kept to the "
			 "APICs' message range", (unsigned long long)base, timers);
}
