/* The last exits of each vCPU, for the report of a fatal error. */
#ifndef CORE_EXIT_HISTORY_H
#define CORE_EXIT_HISTORY_H

#include <core/vcpu.h>

/* After the exit, before its handler changes anything. */
void exit_history_record(struct vcpu *v);
/* Every CPU's recent exits, this CPU's first and in full. */
void exit_history_print(void);

#endif
