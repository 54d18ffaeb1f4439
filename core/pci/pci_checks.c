/* Checks of what BARs, the MCFG table and the CPU say, before lamina
 * relies on it (see include/core/pci_checks.h). Pure: host unit tests run
 * them. */
#include <core/mm.h>
#include <core/pci_checks.h>

/* Type bits at the bottom of a BAR: memory type and prefetchable, or the
 * I/O space indicator and a reserved bit. */
#define BAR_MEM_TYPE_BITS 0xfull
/* x86 ports are 16 bits wide (Linux's IO_SPACE_LIMIT on x86): an I/O BAR
 * can decode nothing above them. */
#define BAR_IO_ADDR_BITS 0xfffcull

/* A BAR's size is its lowest writable address bit, as in Linux's
 * pci_size(): ~mask + 1 goes wrong where upper address bits are hardwired
 * to 0 (a 64-bit BAR decoding 40 bits, a 32-bit BAR reading 0 on top). */
u64 pci_bar_size(u64 mask, bool io)
{
	mask &= io ? BAR_IO_ADDR_BITS : ~BAR_MEM_TYPE_BITS;
	return mask & -mask;
}

const char *pci_range_refusal(u64 base, u64 size, u64 limit)
{
	if (base + size < base)
		return "wraps past 2^64";
	if (size > limit || base > limit - size)
		return "reaches past the end";
	return NULL;
}

/* Firmware memory types that are memory: config cycles there would land
 * in someone's data (persistent memory counts too). */
static bool is_memory(u32 type)
{
	return type == MEM_USABLE || type == MEM_ACPI || type == MEM_NVS || type == MEM_PMEM;
}

/* Whether two non-empty ranges share a byte, without computing an end
 * that could wrap (a sanitized range may end at 2^64). */
static bool ranges_overlap(u64 a, u64 asize, u64 b, u64 bsize)
{
	return a < b ? b - a < asize : a - b < bsize;
}

static bool overlaps_memory(const struct memmap *fw, u64 base, u64 size)
{
	for (unsigned int i = 0; i < fw->n; i++)
		if (is_memory(fw->r[i].type) &&
		    ranges_overlap(base, size, fw->r[i].base, fw->r[i].size))
			return true;
	return false;
}

/* Each bus takes 1 MiB of the window. Linux likewise refuses ECAM that the
 * firmware does not keep out of RAM. */
const char *pci_ecam_refusal(u64 base, u8 bus_start, u8 bus_end, const struct memmap *fw,
			     u64 addr_limit)
{
	u64 start, end;

	if (bus_end < bus_start)
		return "its last bus is below its first";
	if (!IS_ALIGNED(base, MiB))
		return "its base is not 1 MiB aligned";
	if (__builtin_add_overflow(base, (u64)bus_start << 20, &start) ||
	    __builtin_add_overflow(base, ((u64)bus_end + 1) << 20, &end))
		return "its range does not fit below 2^64";
	if (end > addr_limit)
		return "its range lies beyond the CPU's physical addresses";
	if (in_home(start, end - start))
		return "it overlaps lamina's memory";
	if (overlaps_memory(fw, start, end - start))
		return "it overlaps RAM in the firmware's memory map";
	return NULL;
}

#define ECAM_ENABLE BIT(0)
#define PCIEXBAR_LENGTH(v) (((v) >> 1) & 3)
#define PCIEXBAR_BASE_BITS 0x000fffffffffffffull /* below 2^52; reserved bits read 0 */
#define MMIO_CFG_BUS_RANGE(v) (((v) >> 2) & 0xf)
#define MMIO_CFG_BASE_BITS 0x0000fffffff00000ull /* 47:20 */

/* Each bus takes 1 MiB; the base is aligned to the window's size. */
static void set_window(struct pci_ecam_window *w, u64 v, u64 base_bits, unsigned int buses)
{
	*w = (struct pci_ecam_window){
		.enabled = v & ECAM_ENABLE,
		.base = v & base_bits & ~(((u64)buses << 20) - 1),
		.buses = buses,
	};
}

int pci_pciexbar_decode(u64 v, struct pci_ecam_window *w)
{
	if (PCIEXBAR_LENGTH(v) == 3)
		return -1;
	set_window(w, v, PCIEXBAR_BASE_BITS, 256u >> PCIEXBAR_LENGTH(v));
	return 0;
}

int pci_amd_mmio_cfg_decode(u64 v, struct pci_ecam_window *w)
{
	if (MMIO_CFG_BUS_RANGE(v) > 8)
		return -1;
	set_window(w, v, MMIO_CFG_BASE_BITS, 1u << MMIO_CFG_BUS_RANGE(v));
	return 0;
}

const char *pci_ecam_window_refusal(const struct pci_ecam_window *hw, u8 bus, bool has_ecam,
				    u64 ecam_base)
{
	if (!hw->enabled || bus >= hw->buses)
		return NULL;
	if (!has_ecam)
		return "the hardware decodes ECAM for its bus, but lamina has no ECAM window "
		       "there (ACPI MCFG) to trap it in";
	if (ecam_base != hw->base)
		return "the hardware decodes ECAM at another base than the ACPI MCFG's, where "
		       "lamina traps it";
	return NULL;
}

/* Base class and subclass, and programming interface, of class_rev. */
#define CLASS_OF(class_rev) ((class_rev) >> 16)
#define PROG_IF_OF(class_rev) (((class_rev) >> 8) & 0xff)
#define CLASS_VGA 0x0300
#define CLASS_VGA_PRE_PCI_2 0x0001 /* "VGA-compatible" before class codes */
#define CLASS_IDE 0x0101
#define CLASS_ISA_BRIDGE 0x0601
/* IDE programming interface: each channel in native mode (its BARs) or
 * compatibility mode (the ports of the PC/AT disk controller). */
#define IDE_PRIMARY_NATIVE 0x01
#define IDE_SECONDARY_NATIVE 0x04

const char *pci_legacy_decode(u32 class_rev)
{
	u16 class = CLASS_OF(class_rev);
	u8 prog_if = PROG_IF_OF(class_rev);

	if (class == CLASS_VGA || class == CLASS_VGA_PRE_PCI_2)
		return "a VGA device answers at memory 0xa0000-0xbffff and ports 0x3b0-0x3df "
		       "besides its BARs";
	if (class == CLASS_IDE && (prog_if & (IDE_PRIMARY_NATIVE | IDE_SECONDARY_NATIVE)) !=
					  (IDE_PRIMARY_NATIVE | IDE_SECONDARY_NATIVE))
		return "an IDE controller with a channel in compatibility mode answers at ports "
		       "0x1f0-0x1f7 and 0x3f6 (primary) or 0x170-0x177 and 0x376 (secondary) "
		       "besides its BARs";
	if (class == CLASS_ISA_BRIDGE)
		return "an ISA/LPC bridge passes legacy ports and memory on to the devices behind "
		       "it, besides its BARs";
	return NULL;
}

#define NB_CFG_CF8_EXT BIT(46)

bool pci_cf8_ext(bool amd, u64 nb_cfg)
{
	return amd && (nb_cfg & NB_CFG_CF8_EXT);
}

/* CF8: enable (31), bus (23:16), device (15:11), function (10:8),
 * register (7:2); AMD's extended register bits 11:8 in 27:24. */
u16 pci_cf8_register(u32 cf8, u16 port, bool ext)
{
	u16 off = (cf8 & 0xfc) | (port & 3);

	if (ext)
		off |= (cf8 >> 16) & 0xf00;
	return off;
}
