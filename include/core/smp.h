/* CPUs under lamina and the guest's start of its APs (core/smp.c,
 * arch/x86/smp_boot.c). */
#ifndef CORE_SMP_H
#define CORE_SMP_H

#include <core/vcpu.h>

/* Start every CPU of the MADT into lamina (boot CPU, before the guest). */
void smp_boot_aps(void);
/* An AP's life under lamina, once it has arrived from the trampoline. */
void smp_ap_main(struct cpu *c);
/* Arm whatever lamina needs to see the guest's INIT/SIPI. */
void smp_prepare_guest(void);
/* Every AP has been started by the guest. */
bool smp_all_aps_started(void);
/* Some CPU of the machine is not under lamina (left out of, or missing
 * from, the MADT, or it did not start): the guest must never start it. */
void smp_note_cpu_outside(void);
/* The guest wrote ICR (dest: APIC ID for non-shorthand IPIs, all ones
 * for the broadcast ID). Returns true when lamina consumed the IPI
 * (INIT/SIPI while APs start). */
bool smp_guest_icr_write(struct vcpu *v, u32 dest, u32 icr);
/* The guest wrote another APIC register while the trap is on. */
void smp_guest_apic_write(struct vcpu *v);
/* The guest executed WBINVD with interrupts off on v's CPU. */
void smp_cpu_may_go_offline(struct vcpu *v);
/* Before each entry into the guest. */
void smp_before_entry(struct vcpu *v);
void smp_nmi_taken_in_lamina(void);
/* Every other CPU that could run the guest brought into lamina and held
 * there (false, none held, if one did not come within timeout_ns). */
bool smp_hold_others(u64 timeout_ns);
void smp_release_others(void);
/* Sleep states (core/suspend.c): the trampoline's low pages borrowed for
 * the boot CPU's wake (returns their address, the waking vector; 0 if
 * there are none) and given back; the hold of the CPUs ended (they were
 * reset); the APs started into lamina again; a vCPU whose CPU woke; the
 * APIC intercepts after a wake. */
u32 smp_wake_prepare(void);
void smp_wake_restore(void);
void smp_wake_unhold(void);
void smp_wake_aps(void);
void smp_vcpu_woken(struct vcpu *v);
void smp_wake_done(void);
void smp_kick_self(void);

#endif
