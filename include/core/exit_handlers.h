/* Handlers of generic exits, one per reason (core/exit.c dispatches). */
#ifndef CORE_EXIT_HANDLERS_H
#define CORE_EXIT_HANDLERS_H

#include <core/vcpu.h>

void exit_cpuid(struct vcpu *v);      /* core/cpuid.c */
void exit_rdmsr(struct vcpu *v);      /* core/msr.c */
void exit_wrmsr(struct vcpu *v);
void exit_xsetbv(struct vcpu *v);
/* Intercepts the MSRs msr.c has vendor-neutral rules for. */
void msr_prepare_guest(void);
void exit_hypercall(struct vcpu *v);  /* core/hypercall.c */
void exit_nested_fault(struct vcpu *v); /* core/mmio.c */
void exit_io(struct vcpu *v);         /* core/io.c */
void exit_init(struct vcpu *v);       /* core/smp.c */
void exit_sipi(struct vcpu *v);
void exit_task_switch(struct vcpu *v); /* core/task_switch.c */
/* A triple fault: the guest is stopped (core/exit.c). */
__noreturn void exit_shutdown(struct vcpu *v);

#endif
