/* The PCI config-space rule engine: what the guest reads from and writes
 * to one function's configuration registers, down to the bit.
 *
 * Each rule covers one dword register and says, per bit:
 *   pass (default)  the hardware's bit, read and written
 *   ro              read from hardware; the guest cannot change it (a try
 *                   is refused and reported with the rule's name)
 *   emul            read from the rule's shadow; written to the shadow
 *                   unless also emul_ro (then writes are ignored)
 * rw1c marks hardware bits that clear when written with 1, so merging a
 * guest write with read-only bits never clears them by accident.
 * A whole function can be made to read as all-ones (concealed).
 * Registers without a rule pass through untouched, at the guest's width.
 *
 * Pure logic: hardware access goes through struct pci_hw, so the engine
 * runs in host unit tests against a model device. */
#ifndef CORE_PCI_RULES_H
#define CORE_PCI_RULES_H

#include <core/types.h>

#define PCI_MAX_RULES 48

struct pci_rule {
	u16 reg;          /* dword-aligned register offset (0 - 0xffc) */
	const char *name; /* says why, in refusal messages */
	u32 ro, emul, emul_ro, rw1c;
	u32 shadow;
	u64 refusals;     /* guest writes it refused so far */
};

struct pci_rules {
	struct pci_rule rule[PCI_MAX_RULES];
	unsigned int n;
	bool all_ones;    /* concealed: every read is all-ones, writes vanish */
};

struct pci_hw {
	u32 (*read)(void *arg, u16 off, unsigned int size);
	void (*write)(void *arg, u16 off, unsigned int size, u32 val);
	/* A guest write tried to change bits rule r keeps read-only: called
	 * for its 1st, 2nd, 4th, 8th, ... refusal (r->refusals counts them
	 * all), so a guest that loops on a refused write cannot flood the
	 * console with reports. */
	void (*refused)(void *arg, const struct pci_rule *r, u16 off,
			unsigned int size, u32 val, u32 bits);
	void *arg;
};

/* Add (or merge into the existing rule for the same register: masks are
 * combined, the shadow takes the new rule's emulated bits). 0, or -1 when
 * the table is full or the register is not dword-aligned. */
int pci_rule_add(struct pci_rules *rs, const struct pci_rule *r);
const struct pci_rule *pci_rule_find(const struct pci_rules *rs, u16 reg);

/* A guest access of size 1, 2 or 4 at off (within one dword). */
u32 pci_rules_read(struct pci_rules *rs, const struct pci_hw *hw, u16 off,
		   unsigned int size);
void pci_rules_write(struct pci_rules *rs, const struct pci_hw *hw, u16 off,
		     unsigned int size, u32 val);

/* Rules for common policies. */
/* Hide the capability at cap (standard list) by linking its predecessor
 * (prev: the offset of the previous capability, or 0 when cap is first
 * and the list head at 0x34 points at it) to next, and making its own
 * header read as zero. */
int pci_rules_hide_cap(struct pci_rules *rs, u16 prev, u16 cap, u8 next);
/* Emulate a memory or I/O BAR (reg 0x10 - 0x24) of the given size (a power
 * of two) and type bits, currently at value: the guest can size it and
 * move it without touching the hardware. */
int pci_rules_virt_bar(struct pci_rules *rs, u16 reg, u32 size, u32 value);

#endif
