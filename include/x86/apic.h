/* The local APIC as lamina uses it: IPIs to start and stop CPUs, EOI.
 * Works in xAPIC and x2APIC mode, whichever the guest has chosen since. */
#ifndef X86_APIC_H
#define X86_APIC_H

#include <core/types.h>

#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_EXTD BIT(10) /* x2APIC mode */
#define APIC_BASE_EN BIT(11)
#define APIC_DEFAULT_BASE 0xfee00000ull

/* Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + offset / 16). */
#define APIC_ID 0x20
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_LDR 0xd0
#define APIC_SVR 0xf0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PMC 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_ICR 0x380
#define MSR_X2APIC_EOI 0x80b
#define MSR_X2APIC_ICR 0x830

/* ICR fields. */
#define ICR_VECTOR(v) ((v) & 0xff)
#define ICR_DM_MASK (7u << 8)
#define ICR_DM_FIXED (0u << 8)
#define ICR_DM_NMI (4u << 8)
#define ICR_DM_INIT (5u << 8)
#define ICR_DM_SIPI (6u << 8)
#define ICR_BUSY BIT(12)
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_TRIGGER_LEVEL BIT(15)
#define ICR_SHORTHAND_MASK (3u << 18)
#define ICR_SELF (1u << 18)
#define ICR_ALL (2u << 18)
#define ICR_ALL_BUT_SELF (3u << 18)

void apic_init(void);          /* once, on the boot CPU */
void apic_cpu_enable(void);    /* software-enable this CPU's APIC for lamina's IPIs */
void apic_cpu_reset(void);     /* leave it as INIT would, before the guest runs here */
u32 apic_id(void);
void apic_eoi(void);
bool apic_in_service(u8 vector); /* this CPU's ISR bit for vector */
void apic_send_ipi(u32 dest, u32 icr_lo); /* dest: APIC ID, ignored with a shorthand */
void apic_send_nmi_all_but_self(void);
u64 apic_base_pa(void);
/* Whether lamina's IPIs can target this APIC ID in the current mode (not
 * the broadcast ID, and 8 bits in xAPIC mode). */
bool apic_id_reachable(u32 id);

#endif
