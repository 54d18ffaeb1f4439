/* Addresses fixed at link time, shared by assembly and C. */
#ifndef X86_BOOT_LAYOUT_H
#define X86_BOOT_LAYOUT_H

#define LOAD_PHYS 0x100000
#define KERNEL_VBASE 0xffffffff80000000
/* lamina reaches all physical memory at DIRECT_MAP_BASE + pa. */
#define PML4_SLOT_DIRECT_MAP 256
#ifdef HOST_TEST
/* Host unit tests map their stand-in physical memory here instead. */
#define DIRECT_MAP_BASE 0x200000000000
#else
#define DIRECT_MAP_BASE 0xffff800000000000
#endif
/* The direct map ends where the I/O map begins: 128 PML4 slots, 2^46. */
#define DIRECT_MAP_BITS 46
/* Device registers (local APIC, ...) are mapped uncached here. */
#define PML4_SLOT_IO_MAP 384
#define IO_MAP_BASE 0xffffc00000000000

#define BOOT_STACK_SIZE 16384
#define CPU_STACK_SIZE 16384

#endif
