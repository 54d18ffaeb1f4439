/* 8250/16550 UART output, polled. The guest may own the same port: we
 * only ever write THR when it is empty and never change its settings
 * after the first programming at boot. */
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
#define LSR_THRE 0x20

void serial_init(u16 port)
{
	outb(port + UART_IER, 0x00);
	outb(port + UART_LCR, 0x80); /* DLAB: divisor follows */
	outb(port + UART_DLL, 1);    /* 115200 baud */
	outb(port + UART_DLM, 0);
	outb(port + UART_LCR, 0x03); /* 8N1 */
	outb(port + UART_FCR, 0x07); /* FIFO on, cleared */
	outb(port + UART_MCR, 0x03); /* DTR, RTS */
}

void serial_putc(u16 port, char c)
{
	/* Bounded: a missing UART reads 0xff (THRE set); a stuck one must not
	 * hang lamina forever. */
	for (unsigned int i = 0; i < 1000000; i++) {
		if (inb(port + UART_LSR) & LSR_THRE)
			break;
		cpu_relax();
	}
	outb(port + UART_THR, (u8)c);
}
