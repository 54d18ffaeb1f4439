/* The A20 gate stays open. A PC can still force address bit 20 to zero
 * for 8086 compatibility, through System Control Port A (port 0x92, bit
 * 1) or the keyboard controller (command 0xdd, or its output port, bit 1,
 * written after command 0xd1), and emulators apply that mask to every
 * access of the CPU, lamina's own included: lamina's page tables, stack
 * and code would wrap onto other memory at every odd MiB and it would
 * die at the guest's next exit (QEMU and Bochs, both back ends). So
 * lamina hooks those ports: a write that would close the gate goes
 * through with the gate kept open (0xdd is dropped), and says so; every
 * other access reaches the hardware as it was. Nothing after the boot
 * loader needs the gate closed (Linux never closes it). */
#include <core/io.h>
#include <core/log.h>
#include <core/protect.h>
#include <core/spinlock.h>

#define PORT_SYS_CTRL_A 0x92
#define SYS_CTRL_A20 0x02
#define KBC_DATA 0x60
#define KBC_CMD 0x64
#define KBC_WRITE_OUTPUT 0xd1 /* the next data byte is the output port */
#define KBC_A20_OFF 0xdd
#define KBC_OUT_A20 0x02

static struct log_limit refusals = LOG_LIMIT("closing the A20 gate");
/* The keyboard controller is one device, whichever CPU writes to it. */
static spinlock_t kbc_lock = SPINLOCK_INIT;
static bool output_port_next;

static void refused(const char *how)
{
	if (log_limit_pass(&refusals))
		log_warn("the guest tried to close the A20 gate (%s): lamina keeps it open, "
			 "or its own memory would wrap at every odd MiB", how);
}

static void sys_ctrl_write(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size,
			   u32 val)
{
	if (!(val & SYS_CTRL_A20)) {
		refused("port 0x92");
		val |= SYS_CTRL_A20;
	}
	io_port_write(port, size, val);
}

static void kbc_cmd_write(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size,
			  u32 val)
{
	spin_lock(&kbc_lock);
	output_port_next = (u8)val == KBC_WRITE_OUTPUT;
	if ((u8)val == KBC_A20_OFF)
		refused("keyboard controller command 0xdd");
	else
		io_port_write(port, size, val);
	spin_unlock(&kbc_lock);
}

static void kbc_data_write(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size,
			   u32 val)
{
	spin_lock(&kbc_lock);
	if (output_port_next && !(val & KBC_OUT_A20)) {
		refused("keyboard controller output port");
		val |= KBC_OUT_A20;
	}
	output_port_next = false;
	io_port_write(port, size, val);
	spin_unlock(&kbc_lock);
}

static const struct io_ops sys_ctrl_ops = { io_pass_read, sys_ctrl_write };
static const struct io_ops kbc_cmd_ops = { io_pass_read, kbc_cmd_write };
static const struct io_ops kbc_data_ops = { io_pass_read, kbc_data_write };

static struct io_hook hooks[] = {
	{ .base = PORT_SYS_CTRL_A, .count = 1, .name = "A20: port 0x92", .ops = &sys_ctrl_ops },
	{ .base = KBC_CMD, .count = 1, .name = "A20: keyboard controller command",
	  .ops = &kbc_cmd_ops },
	{ .base = KBC_DATA, .count = 1, .name = "A20: keyboard controller data",
	  .ops = &kbc_data_ops },
};

void a20_keep_open(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(hooks); i++)
		io_hook_register(&hooks[i]);
}
