/* Segment selectors of the test kernels' GDT (entry.S), shared by C and
 * assembly. The AP trampoline loads the same GDT. */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

#define SEL_KCODE 0x08   /* ring 0, flat 32-bit code */
#define SEL_KDATA 0x10   /* ring 0, flat data */
#define SEL_UCODE 0x18   /* ring 3, flat 32-bit code (use with RPL 3) */
#define SEL_UDATA 0x20   /* ring 3, flat data */
#define SEL_TSS 0x28     /* the BSP's TSS: ring 3 -> ring 0 stack */
#define SEL_KCODE64 0x30 /* 64-bit code, for visits to long mode */

#define GDT_TSS_INDEX (SEL_TSS / 8)

/* The software interrupt a ring-3 function ends with to get back. */
#define RING3_EXIT_VECTOR 0x80

#endif
