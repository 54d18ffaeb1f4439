/* Host-side stand-ins for the few platform services that pure hypervisor
 * sources call (logging, panics), so they can be unit-tested in user space. */
#include <stdio.h>

#include <core/cpu.h>

/* Each host thread plays one CPU: numbered in the order they first ask. */
unsigned int this_cpu_index(void)
{
	static unsigned int next;
	static _Thread_local unsigned int mine;

	if (!mine)
		mine = __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
	return mine - 1;
}
