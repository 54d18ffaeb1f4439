/* The console: a serial port chosen with console=, or none. */
#include <core/console.h>
#include <core/options.h>
#include <core/string.h>
#include <x86/serial.h>

static u16 console_port = 0x3f8; /* 0: no console */
static bool console_ready;

static int parse_console(const char *v, void *target)
{
	static const u16 com[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
	u64 port;

	if (!strcmp(v, "none")) {
		*(u16 *)target = 0;
		return 0;
	}
	if (!strncmp(v, "com", 3) && v[3] >= '1' && v[3] <= '4' && !v[4]) {
		*(u16 *)target = com[v[3] - '1'];
		return 0;
	}
	if (!strncmp(v, "0x", 2) && !parse_u64(v, &port) && port && port <= 0xfff8) {
		*(u16 *)target = (u16)port;
		return 0;
	}
	return -1;
}
OPTION(console, "console", "com1|com2|com3|com4|none|0x<port>",
       parse_console, &console_port,
       "serial port for lamina's messages (default com1)");

void console_init(void)
{
	if (console_port)
		serial_init(console_port);
	console_ready = true;
}

void console_write_unlocked(const char *s, size_t n)
{
	if (!console_ready || !console_port)
		return;
	serial_write(console_port, s, n);
}

void console_write(const char *s, size_t n)
{
	/* Callers (the log) serialize whole lines. */
	console_write_unlocked(s, n);
}
