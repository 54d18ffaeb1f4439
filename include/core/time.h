/* Time since lamina started, from the TSC (calibrated against the PIT). */
#ifndef CORE_TIME_H
#define CORE_TIME_H

#include <core/types.h>

u64 time_ns(void);
void udelay(u64 us);
u64 tsc_khz(void);
/* Measure the TSC frequency (boot CPU, before the guest runs). */
void tsc_calibrate(void);
/* After a sleep state that reset the TSC: time goes on from ns. */
void tsc_resume(u64 ns);

#endif
