/* Port I/O exits. lamina hooks no ports yet (the I/O bitmap is empty), so
 * an I/O exit means the bitmap and this code disagree: stop the guest
 * rather than guess. */
#include <core/exit_handlers.h>
#include <core/format.h>

void exit_io(struct vcpu *v)
{
	char why[96];

	format(why, sizeof(why), "unexpected I/O exit for port %#x on CPU %u",
	       v->exit.io.port, v->cpu->index);
	guest_stop(v, why);
}
