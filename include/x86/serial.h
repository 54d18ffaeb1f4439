#ifndef X86_SERIAL_H
#define X86_SERIAL_H

#include <core/types.h>

void serial_init(u16 port);
/* Writes n bytes, \n as \r\n, leaving the guest's UART settings as found. */
void serial_write(u16 port, const char *s, size_t n);

#endif
