/* Sleep states that take the CPUs' state (S2, S3), entered and woken
 * from under lamina (core/suspend.c). */
#ifndef CORE_SUSPEND_H
#define CORE_SUSPEND_H

#include <core/vcpu.h>

/* The guest wrote val (size bytes) to a sleep control register at port
 * with SLP_EN and a sleep type that takes the CPUs' state: the machine
 * sleeps from v's next entry on, unless it cannot wake into lamina. */
void suspend_request(struct vcpu *v, u16 port, unsigned int size, u32 val);
/* Before each entry (core/smp.c). */
void suspend_before_entry(struct vcpu *v);
/* The boot CPU back from the sleep, from the trampoline. */
__noreturn void suspend_wake(struct cpu *c);

#endif
