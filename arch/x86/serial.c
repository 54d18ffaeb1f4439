/* 8250/16550 UART output, polled. The guest may own the same port (make
 * run shares COM1 with Linux), so after the first programming at boot we
 * never change its settings for good: only THR is written, and two guest
 * settings that would swallow our bytes are lifted for the length of one
 * write and put back once the transmitter is empty. */
#include <x86/cpu.h>
#include <x86/serial.h>

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0
#define UART_DLM 1
#define LCR_DLAB 0x80 /* THR/IER addresses reach the divisor latch */
#define MCR_LOOP 0x10 /* transmitter looped back into the guest's receiver */
#define LSR_THRE 0x20
#define LSR_TEMT 0x40 /* holding and shift registers both empty */

void serial_init(u16 port)
{
	outb(port + UART_IER, 0x00);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, 1); /* 115200 baud */
	outb(port + UART_DLM, 0);
	outb(port + UART_LCR, 0x03); /* 8N1 */
	outb(port + UART_FCR, 0x07); /* FIFO on, cleared */
	outb(port + UART_MCR, 0x03); /* DTR, RTS */
}

/* Bounded: a missing UART reads 0xff (every bit set); a stuck one must
 * not hang lamina forever. */
static void wait_lsr(u16 port, u8 bits)
{
	for (unsigned int i = 0; i < 1000000; i++) {
		if ((inb(port + UART_LSR) & bits) == bits)
			return;
		cpu_relax();
	}
}

static void put_byte(u16 port, char c)
{
	wait_lsr(port, LSR_THRE);
	outb(port + UART_THR, (u8)c);
}

void serial_write(u16 port, const char *s, size_t n)
{
	u8 lcr = inb(port + UART_LCR), mcr = inb(port + UART_MCR);
	/* With DLAB set our bytes would become the guest's baud divisor; in
	 * loopback they would arrive as the guest's input and never leave. */
	bool lift_dlab = lcr & LCR_DLAB, lift_loop = mcr & MCR_LOOP;

	if (lift_dlab)
		outb(port + UART_LCR, lcr & ~LCR_DLAB);
	if (lift_loop) {
		wait_lsr(port, LSR_TEMT); /* a byte of the guest's still looping */
		outb(port + UART_MCR, mcr & ~MCR_LOOP);
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			put_byte(port, '\r');
		put_byte(port, s[i]);
	}
	if (lift_loop) {
		wait_lsr(port, LSR_TEMT);
		outb(port + UART_MCR, mcr);
	}
	if (lift_dlab)
		outb(port + UART_LCR, lcr);
}
