/* The BSP's local APIC, in xAPIC (MMIO) or x2APIC (MSR) mode. */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <core/types.h>

#define APIC_ID 0x20
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_IRR 0x200 /* 8 registers, 16 bytes apart: vectors 0-255 */
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310

#define ICR_INIT (5u << 8)
#define ICR_NMI (4u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_PENDING BIT(12) /* xAPIC only */
#define ICR_ASSERT BIT(14)
#define ICR_LEVEL BIT(15)
#define ICR_ALL_BUT_SELF (3u << 18)

#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)

/* Software-enables the APIC at its MSR base; false if globally off. */
bool apic_init(void);
/* Turns this CPU's APIC to x2APIC mode (the caller checked CPUID). */
void apic_enable_x2apic(void);
bool apic_is_x2apic(void);
u32 apic_read(u32 reg);
void apic_write(u32 reg, u32 val);
u32 apic_self_id(void);
/* Sends an IPI; in xAPIC mode waits (bounded) for delivery. False if it
 * stayed pending. */
bool apic_send_ipi(u32 dest, u32 icr_lo);
/* INIT-SIPI-SIPI to `dest` (or the shorthand's CPUs) with the given waits
 * after the INIT and after each SIPI (needs timer_init); false if an IPI
 * stayed pending. */
bool apic_init_sipi_sipi(u32 dest, u32 shorthand, u32 vector, u32 init_delay_us,
			 u32 sipi_delay_us);

#endif
