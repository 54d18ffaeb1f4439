/* The CMOS shutdown status byte (RTC index 0x0F) stays 0. After a reset
 * the BIOS reads it to decide whether to POST or to resume: 0x05 and
 * 0x0A-0x0C jump through the far pointer at 40:67, 0xFE to the ACPI
 * waking vector (SeaBIOS, Bochs's BIOS). A guest that set it and reset
 * the machine (port 0x92, the keyboard controller, 0xCF9) would run its
 * own code with virtualization off on every CPU the reset reached, with
 * lamina's memory still in RAM (found by a review helper). So lamina
 * clears it at boot, keeps track of the index the guest selects, and
 * drops a guest write of anything but 0 to it. Linux writes 0x0A there
 * while starting each AP (the warm-reset vector of 82489DX-era machines)
 * and 0 afterwards: APs start at their SIPI vector under lamina, so the
 * drop changes nothing. Ports 0x74/0x75, which alias 0x70/0x71 on some
 * chipsets, are treated the same, each with its own index. */
#include <core/io.h>
#include <core/log.h>
#include <core/protect.h>
#include <core/spinlock.h>

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_ALIAS 0x74 /* index and data again */
#define CMOS_NMI_DISABLE 0x80
#define CMOS_SHUTDOWN 0x0f

static struct log_limit refusals = LOG_LIMIT("CMOS shutdown byte writes");
/* One RTC, whichever CPU writes to it. */
static spinlock_t cmos_lock = SPINLOCK_INIT;
/* The last value written to each index port (0x70, 0x74). */
static u8 index_written[2] = { CMOS_SHUTDOWN, CMOS_SHUTDOWN };

static bool selects_shutdown(u8 index)
{
	return (index & ~CMOS_NMI_DISABLE) == CMOS_SHUTDOWN;
}

/* The index is selected again before each data access, so that the one
 * lamina checked is the one the RTC uses, whatever ran in between (SMM,
 * the other index port). */
static u32 cmos_read(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size)
{
	u8 *index = h->arg;
	u32 val;

	spin_lock(&cmos_lock);
	if (port & 1)
		io_port_write(h->base, 1, *index);
	val = io_port_read(port, size);
	spin_unlock(&cmos_lock);
	return val;
}

static void refused(struct vcpu *v, u8 val)
{
	if (log_limit_pass(&refusals))
		log_info("CPU %u: the guest's write of %#x to the CMOS shutdown byte was dropped: "
			 "after a reset the BIOS would jump to the guest's code outside lamina "
			 "(Linux writes 0xa while starting APs; it needs none here)",
			 v->cpu->index, val);
}

/* Accesses come one byte at a time, but for a word at the index port
 * (index and data at once). */
static void cmos_write(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size, u32 val)
{
	u8 *index = h->arg;
	u8 data = (port & 1) ? (u8)val : (u8)(val >> 8);
	bool writes_data = (port & 1) || size > 1;

	spin_lock(&cmos_lock);
	if (!(port & 1))
		*index = (u8)val;
	if (writes_data && selects_shutdown(*index) && data) {
		spin_unlock(&cmos_lock);
		refused(v, data);
		return;
	}
	if (port & 1)
		io_port_write(h->base, 1, *index);
	io_port_write(port, size, val);
	spin_unlock(&cmos_lock);
}

static const struct io_ops cmos_ops = { cmos_read, cmos_write };

static struct io_hook cmos_hook = {
	.base = CMOS_INDEX, .count = 2, .name = "CMOS (RTC)", .ops = &cmos_ops,
	.arg = &index_written[0],
};
static struct io_hook cmos_alias_hook = {
	.base = CMOS_ALIAS, .count = 2, .name = "CMOS (RTC) alias", .ops = &cmos_ops,
	.arg = &index_written[1],
};

void cmos_shutdown_keep_clear(void)
{
	io_port_write(CMOS_INDEX, 1, CMOS_SHUTDOWN);
	io_port_write(CMOS_DATA, 1, 0);
	io_hook_register(&cmos_hook);
	io_hook_register(&cmos_alias_hook);
}
