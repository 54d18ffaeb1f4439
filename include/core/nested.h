/* The guest's nested page tables (NPT / EPT): identity, minus lamina. */
#ifndef CORE_NESTED_H
#define CORE_NESTED_H

#include <core/types.h>

struct vcpu;

/* Build them (after pci_discover: they reach the BARs it found). NULL,
 * or why the guest cannot run (the tables do not fit in lamina's
 * memory; the message names the mem= that would do). */
const char *nested_init(void);
u64 nested_root(void);
/* Change permissions of [pa, pa + size): PT_* attributes (0: absent).
 * Every vCPU flushes its nested TLB before its next entry. */
int nested_protect(u64 pa, u64 size, u64 attr);
/* Restore the normal mapping of [pa, pa + size). */
int nested_restore(u64 pa, u64 size);
/* Whether the current mapping allows this access (a fault that did not
 * need to happen: a stale TLB entry). */
bool nested_allows(u64 pa, bool write, bool fetch);
/* Before entering the guest: flush if the tables changed since. */
void nested_sync(struct vcpu *v);
/* The end of the mapped guest-physical space. */
u64 nested_limit(void);

#endif
