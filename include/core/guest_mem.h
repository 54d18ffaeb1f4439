/* lamina's view of guest memory: the guest's physical memory map, and
 * reads and writes at guest linear addresses through the guest's own page
 * tables, as the CPU would do them (so emulated instructions fault the way
 * real ones do). */
#ifndef CORE_GUEST_MEM_H
#define CORE_GUEST_MEM_H

#include <core/memmap.h>
#include <core/vcpu.h>

/* The memory map the guest is given: the firmware's, with lamina's home
 * reserved; -1 if the map has no room left to reserve it. */
extern struct memmap guest_map;
int guest_map_init(void);

enum guest_access { ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH };

/* True when lamina may touch [gpa, gpa + len) as guest RAM: usable, ACPI
 * or below 1 MiB, and not lamina's own. */
bool guest_ram_ok(u64 gpa, u64 len);

/* The reserved bits of a present PAE PDPTE (with this CPU's MAXPHYADDR). */
u64 guest_pae_pdpte_reserved(void);

/* Guest linear -> guest physical, with the checks and A/D updates of the
 * guest's paging mode: present, reserved bits, R/W, U/S, XD, SMEP and SMAP
 * (not protection keys). Each entry is read in one access, and A/D are
 * set only in the entry as it was read; when the guest changes one under
 * the walk, the walk starts over. 0, or -1 with *f: #PF; #GP (a
 * non-canonical address, page tables outside guest RAM); or
 * EMU_VECTOR_RETRY when the entries kept changing. */
int guest_translate(struct vcpu *v, u64 la, enum guest_access acc, u64 *gpa,
		    struct emu_fault *f);

/* Copy to/from guest RAM at a linear address (may cross pages), all or
 * nothing: every page is checked before a byte moves. At most
 * GUEST_COPY_MAX bytes. 0, or -1 with *f filled as guest_translate does
 * (and #GP when the memory is not RAM lamina may touch). */
#define GUEST_COPY_MAX 4096
int guest_read_linear(struct vcpu *v, u64 la, void *buf, size_t n,
		      enum guest_access acc, struct emu_fault *f);
int guest_write_linear(struct vcpu *v, u64 la, const void *buf, size_t n,
		       struct emu_fault *f);

/* The same for the CPU's implicit supervisor accesses (descriptor tables,
 * TSSs): paging checks as at CPL 0 whatever the CPL. */
int guest_copy_system(struct vcpu *v, u64 la, void *buf, size_t n, bool write,
		      struct emu_fault *f);

/* The guest's instruction at CS:RIP, fetched through its page tables and
 * decoded. */
struct guest_insn {
	u8 bytes[X86_MAX_INSN_LEN];
	unsigned int fetched;  /* bytes read: 15, or fewer before a page
				* that cannot be read */
	struct x86_insn insn;  /* with INSN_OK */
};

enum insn_fetch {
	INSN_OK,
	INSN_FETCH_FAULT, /* fetching bytes it needs faults: *f is #PF, #GP
			   * (memory that is not RAM lamina may read, a
			   * non-canonical address) or EMU_VECTOR_RETRY */
	INSN_INVALID,     /* *f: #UD for bytes that are no instruction,
			   * #GP(0) for one longer than 15 bytes */
};

/* Fetch and decode the instruction at CS:RIP as the CPU does: a fault
 * fetching the next page (an instruction may cross into it) is the
 * instruction's only when it needs bytes from there. On INSN_OK *f is
 * not meaningful. */
enum insn_fetch guest_fetch_decode(struct vcpu *v, struct guest_insn *gi,
				   struct emu_fault *f);

#endif
