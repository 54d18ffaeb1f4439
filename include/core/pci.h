/* PCI as lamina sees it: every function found at boot (BARs sized,
 * capabilities listed), lamina's own config-space access, and drivers
 * that mediate some functions by installing config-space rules. */
#ifndef CORE_PCI_H
#define CORE_PCI_H

#include <core/mmio.h>
#include <core/pci_rules.h>

#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REV 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_PRIMARY_BUS 0x18
#define PCI_MEMORY_WINDOW 0x20      /* header type 1: base and limit, 16 bits each */
#define PCI_PREF_WINDOW 0x24
#define PCI_PREF_BASE_UPPER 0x28
#define PCI_PREF_LIMIT_UPPER 0x2c
#define PCI_CAP_PTR 0x34
#define PCI_ROM_ADDRESS 0x30        /* header type 0 */
#define PCI_ROM_ADDRESS_BRIDGE 0x38 /* header type 1 */
#define PCI_ROM_ENABLE BIT(0)
#define PCI_COMMAND_IO BIT(0)
#define PCI_COMMAND_MEM BIT(1)
#define PCI_COMMAND_MASTER BIT(2)
#define PCI_STATUS_CAP_LIST BIT(4)
#define PCI_EXT_CAP_START 0x100
/* Base class and subclass (class_rev >> 16). */
#define PCI_CLASS_BRIDGE_HOST 0x0600
#define PCI_CLASS_BRIDGE_ISA 0x0601
#define PCI_VENDOR_INTEL 0x8086

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
	enum pci_bar_kind kind;
	bool prefetch;
	u64 base, size;
};

/* As many capabilities as the list walks visit (they stop there, so a
 * looping list ends): 48 fit in the standard space, 64 extended. */
#define PCI_MAX_STD_CAPS 48
#define PCI_MAX_EXT_CAPS 64
#define PCI_MAX_CAPS (PCI_MAX_STD_CAPS + PCI_MAX_EXT_CAPS)

struct pci_cap {
	u16 offset;
	u16 id;
	bool extended;
};

struct pci_driver;

struct pci_func {
	u16 seg;
	u8 bus, dev, fn;
	u16 vendor, device;
	u32 class_rev;         /* class << 8 | revision */
	u8 header_type;        /* low 7 bits: 0 device, 1 bridge */
	u8 secondary_bus;      /* bridges */
	unsigned int nbars;
	struct pci_bar bar[6];
	unsigned int ncaps;
	struct pci_cap cap[PCI_MAX_CAPS];
	struct pci_rules rules;
	const struct pci_driver *driver;
	bool trapped;          /* ECAM page trapped: config access goes through rules */
	struct mmio_region ecam_region;
	struct pci_func *next;
};

/* Whether f's device ID is one of the n in ids (a chipset model list). */
static inline bool pci_device_listed(const struct pci_func *f, const u16 *ids, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (ids[i] == f->device)
			return true;
	return false;
}

struct pci_select;

/* Drivers mediate functions. They register themselves with PCI_DRIVER();
 * match() sees every function once; attach() installs rules and traps. */
struct pci_driver {
	const char *name;
	/* The functions a command-line option names: instead of match(), and
	 * every entry must have attached by the end, or the guest does not
	 * start (pci_select_check). */
	struct pci_select *select;
	bool (*match)(const struct pci_func *f);
	int (*attach)(struct pci_func *f);
	/* After every function was offered: 0, or -1 to stop the guest from
	 * starting (a driver that protects something and could not). */
	int (*check)(void);
};

#define PCI_DRIVER(id)                                                     \
	static const struct pci_driver pci_driver_##id                     \
		__attribute__((used, section("lamina_pci_drivers"), aligned(8)))

/* Functions named on the command line: "BB:DD.F" or "VVVV:DDDD" entries,
 * comma-separated (core/pci/pci_select.c). */
#define PCI_SELECT_MAX 16

struct pci_select_entry {
	bool by_id;            /* VVVV:DDDD, else BB:DD.F */
	u16 vendor, device;
	u8 bus, dev, fn;
	bool attached;         /* the driver attached to a function it names */
	bool failed;           /* ... or could not attach to one: fail closed */
};

struct pci_select {
	const char *option, *verb; /* for messages: "conceal", "concealed" */
	unsigned int n;
	struct pci_select_entry e[PCI_SELECT_MAX];
};

#define PCI_SELECT_FORM "BB:DD.F[,BB:DD.F...] or VVVV:DDDD[,...]"

/* An option parser (target: struct pci_select); says what is wrong. */
int pci_select_parse(const char *v, void *target);
bool pci_select_names(const struct pci_select *sel, const struct pci_func *f);
/* After the driver's attach() to f: every entry that names f (two may
 * name one function: 01:00.0 and its vendor:device) records whether it
 * worked. An entry that names a function the driver could not attach to
 * fails pci_select_check, whatever other functions it names did. */
void pci_select_result(struct pci_select *sel, const struct pci_func *f, bool attached);
/* For a driver's check(): -1, with a message, if an entry stayed undone
 * or failed. */
int pci_select_check(const struct pci_select *sel);

/* Find lamina's configuration access (ECAM, else CF8/CFC) and enumerate
 * every function, BARs sized. */
void pci_discover(void);
/* After pci_discover: offer every function to the drivers, start
 * intercepting configuration accesses. False when a driver must stop the
 * guest. */
bool pci_init(void);
/* The end of the highest memory address a function found at boot decodes
 * or forwards (BARs, bridges' windows) or lamina's ECAM windows cover. */
u64 pci_decoded_end(void);
/* The end of the highest ECAM window lamina uses (0 without ECAM). */
u64 pci_ecam_end(void);
struct pci_func *pci_first(void);
struct pci_func *pci_find(u16 seg, u8 bus, u8 dev, u8 fn);

/* lamina's own config access (ECAM where ACPI MCFG has it, else CF8/CFC). */
u32 pci_cfg_read(u16 seg, u8 bus, u8 dev, u8 fn, u16 off, unsigned int size);
void pci_cfg_write(u16 seg, u8 bus, u8 dev, u8 fn, u16 off, unsigned int size, u32 val);
/* The same, for a known function. */
u32 pci_func_read(const struct pci_func *f, u16 off, unsigned int size);
void pci_func_write(const struct pci_func *f, u16 off, unsigned int size, u32 val);
/* One access to the data port CFC + lane with CF8 holding address, atomic
 * against every other user of the port pair. */
u32 pci_cf8_access(u32 address, unsigned int lane, unsigned int size, bool write, u32 val);
bool pci_has_ecam(u16 seg, u8 bus);
/* On this CPU, CF8 bits 27:24 are register bits 11:8 (AMD's
 * EnableCf8ExtCfg, include/core/pci_checks.h). */
bool pci_cf8_ext_enabled(void);
u64 pci_ecam_address(u16 seg, u8 bus, u8 dev, u8 fn); /* 0 without ECAM */

/* Route the function's config space through its rules: trap its ECAM
 * page (CF8/CFC accesses always go through them). */
int pci_trap_config(struct pci_func *f);
/* Trap page too, as f's configuration space through its rules (r: the
 * region to use, kept for as long as the trap): a page where the hardware
 * decodes f's ECAM though lamina has no ECAM there (pci_ecam_guard.c). */
int pci_trap_config_page(struct pci_func *f, u64 page, struct mmio_region *r);
/* "00:02.0 (8086:10d3)" for messages. */
const char *pci_name(const struct pci_func *f, char *buf, size_t size);

#endif
