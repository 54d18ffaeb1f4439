/* PCI config-space rule engine (see include/core/pci_rules.h). */
#include <core/pci_rules.h>

const struct pci_rule *pci_rule_find(const struct pci_rules *rs, u16 reg)
{
	for (unsigned int i = 0; i < rs->n; i++)
		if (rs->rule[i].reg == reg)
			return &rs->rule[i];
	return NULL;
}

int pci_rule_add(struct pci_rules *rs, const struct pci_rule *r)
{
	struct pci_rule *e = (struct pci_rule *)pci_rule_find(rs, r->reg);

	if (r->reg & 3 || r->reg > 0xffc)
		return -1;
	if (!e) {
		if (rs->n == PCI_MAX_RULES)
			return -1;
		rs->rule[rs->n++] = *r;
		return 0;
	}
	e->ro |= r->ro;
	e->rw1c |= r->rw1c;
	e->emul_ro = (e->emul_ro & ~r->emul) | r->emul_ro;
	e->shadow = (e->shadow & ~r->emul) | (r->shadow & r->emul);
	e->emul |= r->emul;
	return 0;
}

/* Byte lanes an access covers, in dword bit positions. */
static u32 lanes_of(u16 off, unsigned int size)
{
	u32 m = size == 4 ? 0xffffffffu : ((1u << (size * 8)) - 1);

	return m << ((off & 3) * 8);
}

u32 pci_rules_read(struct pci_rules *rs, const struct pci_hw *hw, u16 off,
		   unsigned int size)
{
	unsigned int shift = (off & 3) * 8;
	u32 lanes = lanes_of(off, size);
	const struct pci_rule *r;
	u32 v;

	if (rs->all_ones)
		return lanes >> shift;
	r = pci_rule_find(rs, off & ~3);
	if (!r)
		return hw->read(hw->arg, off, size);
	v = r->shadow & r->emul;
	if (~r->emul & lanes)
		v |= hw->read(hw->arg, off & ~3, 4) & ~r->emul;
	return (v & lanes) >> shift;
}

/* Count the refusal; report it when the count is a power of two. */
static void refuse(struct pci_rule *r, const struct pci_hw *hw, u16 off, unsigned int size,
		   u32 val, u32 bits)
{
	u64 n = ++r->refusals;

	if (hw->refused && !(n & (n - 1)))
		hw->refused(hw->arg, r, off, size, val, bits);
}

void pci_rules_write(struct pci_rules *rs, const struct pci_hw *hw, u16 off,
		     unsigned int size, u32 val)
{
	unsigned int shift = (off & 3) * 8;
	u32 lanes = lanes_of(off, size);
	u32 now = (val << shift) & lanes;
	struct pci_rule *r;

	if (rs->all_ones)
		return;
	r = (struct pci_rule *)pci_rule_find(rs, off & ~3);
	if (!r)
		return hw->write(hw->arg, off, size, val);

	u32 to_shadow = r->emul & ~r->emul_ro & lanes;
	r->shadow = (r->shadow & ~to_shadow) | (now & to_shadow);

	u32 hw_bits = ~r->emul & lanes;
	if (!hw_bits)
		return;
	if (!((r->ro | r->emul) & lanes))
		return hw->write(hw->arg, off, size, val);
	/* Some bits in these lanes are kept: merge with what is there. A
	 * kept RW1C bit is written as 0, which leaves it alone. */
	u32 old = hw->read(hw->arg, off & ~3, 4);
	u32 keep = (r->ro | r->emul) & lanes;
	u32 changed = (now ^ old) & r->ro & hw_bits & ~r->rw1c;
	changed |= now & r->ro & r->rw1c & lanes; /* a 1 would clear it */
	if (changed)
		refuse(r, hw, off, size, val, changed >> shift);
	u32 merged = (now & ~keep) | (old & keep & ~r->rw1c);
	hw->write(hw->arg, off, size, (merged & lanes) >> shift);
}

int pci_rules_hide_cap(struct pci_rules *rs, u16 prev, u16 cap, u8 next)
{
	/* The pointer to cap: byte 0x34 (list head) or byte prev + 1. */
	u16 at = prev ? prev + 1 : 0x34;
	u32 bits = 0xffu << ((at & 3) * 8);
	struct pci_rule link = {
		.reg = at & ~3, .name = "hidden capability",
		.emul = bits, .emul_ro = bits, .shadow = (u32)next << ((at & 3) * 8),
	};
	struct pci_rule header = {
		.reg = cap & ~3, .name = "hidden capability",
		.emul = 0xffffffffu, .emul_ro = 0xffffffffu, .shadow = 0,
	};

	if (cap < 0x40 || (cap & 3))
		return -1;
	return pci_rule_add(rs, &link) || pci_rule_add(rs, &header) ? -1 : 0;
}

int pci_rules_virt_bar(struct pci_rules *rs, u16 reg, u32 size, u32 value)
{
	bool io = value & 1;
	u32 type_bits = io ? 0x3 : 0xf;
	struct pci_rule r = {
		.reg = reg, .name = "virtual BAR",
		.emul = 0xffffffffu,
		/* Address bits below the size and the type bits are fixed. */
		.emul_ro = (size - 1) | type_bits,
		.shadow = value,
	};

	if (reg < 0x10 || reg > 0x24 || !size || (size & (size - 1)))
		return -1;
	return pci_rule_add(rs, &r);
}
