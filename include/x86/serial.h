#ifndef X86_SERIAL_H
#define X86_SERIAL_H

#include <core/types.h>

void serial_init(u16 port);
void serial_putc(u16 port, char c);

#endif
