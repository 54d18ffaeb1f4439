/* Where lamina's text goes: a serial port chosen by console=. */
#ifndef CORE_CONSOLE_H
#define CORE_CONSOLE_H

#include <core/types.h>

void console_init(void);
void console_write(const char *s, size_t n);
/* Bypasses the console lock: for panics, when the holder may be dead. */
void console_write_unlocked(const char *s, size_t n);

#endif
