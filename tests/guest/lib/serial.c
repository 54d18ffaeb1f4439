/* COM1, 115200 8N1, polled. */
#include "cpu.h"
#include "print.h"

#define COM1 0x3f8
#define LSR_THR_EMPTY 0x20
#define LSR_TX_IDLE 0x40 /* holding and shift registers empty */

void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB: divisor follows */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void serial_putc(char c)
{
	/* Bounded: a missing UART must not hang the test. */
	for (u32 i = 0; i < 1000000 && !(inb(COM1 + 5) & LSR_THR_EMPTY); i++)
		cpu_relax();
	outb(COM1, (u8)c);
}

void serial_write(const char *s, size_t n)
{
	while (n--)
		serial_putc(*s++);
}

/* Wait until the last byte has left the UART: an emulator that exits right
 * after would lose what is still in the FIFO. */
void serial_flush(void)
{
	for (u32 i = 0; i < 1000000 && !(inb(COM1 + 5) & LSR_TX_IDLE); i++)
		cpu_relax();
}
