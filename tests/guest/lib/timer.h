/* Time, from the TSC calibrated against the PIT (channel 2, polled). */
#ifndef GUEST_TIMER_H
#define GUEST_TIMER_H

#include <core/types.h>

/* Measures the TSC frequency; false if the PIT never counted down. */
bool timer_init(void);
u32 tsc_khz(void);
/* Microseconds since timer_init. */
u64 time_us(void);
void udelay(u32 us);

#endif
