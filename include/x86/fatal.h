/* Stopping lamina after a bug: one CPU reports, every other CPU halts. */
#ifndef X86_FATAL_H
#define X86_FATAL_H

#include <core/types.h>

/* Claim the report; a second CPU arriving here halts at once. */
void fatal_begin(void);
/* Halt every other CPU (NMI), then this one. */
__noreturn void fatal_end(void);
bool fatal_in_progress(void);
/* Print the call chain from a frame pointer. */
void backtrace(u64 rip, u64 rbp);

#endif
