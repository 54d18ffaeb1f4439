/* Guest page walks and guest memory copies (see guest_mem.h). The walk
 * follows the guest's mode: no paging, 32-bit (with 4 MiB pages), PAE,
 * 4- and 5-level. */
#include <core/bootinfo.h>
#include <core/guest_mem.h>
#include <core/mm.h>
#include <core/string.h>
#include <x86/cpu.h>

struct memmap guest_map;

int guest_map_init(void)
{
	guest_map = boot_info.fw_map;
	return memmap_set(&guest_map, home.base, home.size, MEM_RESERVED);
}

bool guest_ram_ok(u64 gpa, u64 len)
{
	if (gpa + len < gpa || in_home(gpa, len))
		return false;
	if (gpa + len <= 1 * MiB)
		return true;
	for (unsigned int i = 0; i < guest_map.n; i++) {
		const struct mem_range *r = &guest_map.r[i];
		bool ram = r->type == MEM_USABLE || r->type == MEM_ACPI || r->type == MEM_NVS;
		if (ram && gpa >= r->base && gpa + len <= r->base + r->size)
			return true;
	}
	return false;
}

#define PF_P BIT(0)
#define PF_W BIT(1)
#define PF_U BIT(2)
#define PF_RSVD BIT(3)
#define PF_I BIT(4)
#define PTE_PS BIT(7)
#define PTE_XD BIT(63)
#define CPUID_80000001_EDX_PDPE1GB BIT(26)
#define CPUID1_EDX_PSE36 BIT(17)

static void page_fault(struct emu_fault *f, u64 la, u32 err)
{
	*f = (struct emu_fault){ .vector = 14, .has_error = true, .error_code = err, .cr2 = la };
}

static void gp_fault(struct emu_fault *f)
{
	*f = (struct emu_fault){ .vector = 13, .has_error = true, .error_code = 0 };
}

/* Bits hi..lo set. */
static u64 bit_range(unsigned int hi, unsigned int lo)
{
	return hi < lo ? 0 : (~0ull >> (63 - hi)) & ~(BIT(lo) - 1);
}

/* What the guest's CPUID says (lamina passes these through): MAXPHYADDR,
 * 1 GiB pages, PSE-36. Read once. */
static struct {
	bool read;
	unsigned int phys_bits;
	bool gib_pages, pse36;
} paging_caps;

static void read_paging_caps(void)
{
	if (__atomic_load_n(&paging_caps.read, __ATOMIC_ACQUIRE))
		return;
	paging_caps.phys_bits = cpu_phys_bits();
	paging_caps.gib_pages = cpuid(0x80000000).eax >= 0x80000001 &&
				(cpuid(0x80000001).edx & CPUID_80000001_EDX_PDPE1GB);
	paging_caps.pse36 = cpuid(1).edx & CPUID1_EDX_PSE36;
	__atomic_store_n(&paging_caps.read, true, __ATOMIC_RELEASE);
}

/* Who makes the access: ring 3, the supervisor with an explicit operand,
 * or the CPU itself (descriptor tables, TSSs: supervisor accesses even at
 * CPL 3, and SMAP blocks them whatever EFLAGS.AC says). */
enum priv { PRIV_USER, PRIV_SUPER, PRIV_IMPLICIT };

enum paging { PAGING_32, PAGING_PAE, PAGING_LONG };

struct walk {
	enum guest_access acc;
	enum priv priv;
	enum paging mode;
	u64 cr3, cr4;
	bool wp, nx, smep, smap, ac;
	u64 la;
	u32 err;          /* #PF error code bits gathered so far */
	bool writable, user_ok, exec_ok;
};

/* Read one paging-structure entry (4 or 8 bytes) from guest RAM in one
 * access, as the CPU does: the guest may be rewriting it on another CPU,
 * and a copy made byte by byte could mix the old entry with the new one
 * into a frame neither maps. Entries are naturally aligned. */
static int read_entry(u64 pa, unsigned int size, u64 *e)
{
	if (!guest_ram_ok(pa, size))
		return -1;
	if (size == 8)
		*e = __atomic_load_n((u64 *)phys_to_virt(pa), __ATOMIC_ACQUIRE);
	else
		*e = __atomic_load_n((u32 *)phys_to_virt(pa), __ATOMIC_ACQUIRE);
	return 0;
}

/* Set accessed (and dirty on a leaf written through) as the CPU does: a
 * locked update of the entry the walk used (SDM Vol. 3A 4.8), made only
 * if the entry still holds what was read. false: the guest changed it
 * meanwhile (cleared P, moved the frame, write-protected it), and the
 * walk must start over on what it holds now. Usually the bits are set
 * already (the CPU just used the entry): then no locked write. */
static bool set_ad(u64 pa, unsigned int size, u64 e, u64 bits)
{
	if ((e & bits) == bits)
		return true;
	if (size == 8) {
		u64 seen = e;
		return __atomic_compare_exchange_n((u64 *)phys_to_virt(pa), &seen, e | bits,
						   false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	}
	u32 seen = (u32)e;
	return __atomic_compare_exchange_n((u32 *)phys_to_virt(pa), &seen, (u32)(e | bits),
					   false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* The reserved (must-be-zero) bits of a present entry at `level` (1 = the
 * PTE) that is a leaf (`large` above level 1) or not: SDM Vol. 3A 4.3-4.5,
 * the "Format of ..." tables. PKE's key bits (62:59) are ignored bits, not
 * reserved ones. Bit 8 of a PML4E, which the APM also calls MBZ, is left
 * alone as Intel ignores it. */
static u64 reserved_bits(const struct walk *w, int level, bool large, bool ps)
{
	unsigned int m = paging_caps.phys_bits;
	u64 r;

	if (w->mode == PAGING_32) {
		if (!large)
			return 0;
		/* PSE-36: bits 20:13 are address bits 39:32, those at or
		 * above MAXPHYADDR (at most 40 counted) reserved, bit 21 too. */
		return paging_caps.pse36 ? bit_range(21, MIN(m, 40u) - 19) : bit_range(21, 13);
	}
	/* PAE paging reserves 62:M, 4- and 5-level 51:M (62:52 ignored). */
	r = bit_range(w->mode == PAGING_PAE ? 62 : 51, m);
	if (!w->nx)
		r |= PTE_XD;
	if (w->mode == PAGING_LONG && level >= 4)
		r |= PTE_PS;
	else if (w->mode == PAGING_LONG && level == 3 && ps && !paging_caps.gib_pages)
		r |= PTE_PS;
	else if (large)
		r |= bit_range(level == 3 ? 29 : 20, 13); /* bit 12 is PAT */
	return r;
}

/* PAE paging's PDPTEs (SDM Table 4-8): bits 2:1, 8:5 and 63:M. */
u64 guest_pae_pdpte_reserved(void)
{
	read_paging_caps();
	return bit_range(2, 1) | bit_range(8, 5) | bit_range(63, paging_caps.phys_bits);
}

/* Check one present entry's rights; returns false (with w->err) when the
 * walk must fault. At the leaf, the rights of all levels combined decide
 * (SDM 4.6). Protection keys are not checked: the guest's PKRU is in the
 * CPU's register while lamina runs, readable only with RDPKRU under
 * lamina's CR4.PKE, which lamina does not set; a guest with CR4.PKE
 * would see emulated accesses ignore its keys. */
static bool check_entry(struct walk *w, u64 e, unsigned int size, bool leaf)
{
	w->writable &= !!(e & 2);
	w->user_ok &= !!(e & 4);
	if (size == 8 && (e & PTE_XD) && w->nx)
		w->exec_ok = false;
	if (!leaf)
		return true;
	w->err |= PF_P;
	if (w->priv == PRIV_USER) {
		if (!w->user_ok)
			return false;
		if (w->acc == ACCESS_WRITE && !w->writable)
			return false;
		return w->acc != ACCESS_FETCH || w->exec_ok;
	}
	/* Supervisor access: a user page (U=1 at every level) is off limits
	 * to fetches with SMEP, to data accesses with SMAP unless explicit
	 * with EFLAGS.AC set. */
	if (w->acc == ACCESS_FETCH)
		return w->exec_ok && !(w->user_ok && w->smep);
	if (w->user_ok && w->smap && (w->priv == PRIV_IMPLICIT || !w->ac))
		return false;
	return w->acc != ACCESS_WRITE || w->writable || !w->wp;
}

/* How a walk ends. */
enum walk_result {
	WALK_OK,
	WALK_FAULT,   /* #PF, w->err says why */
	WALK_NOT_RAM, /* a table outside the RAM lamina may read */
	WALK_CHANGED, /* an entry changed before its A/D update: walk again */
};

/* Walks started over because the guest changed an entry under lamina,
 * before the access is given up to be retried by the guest. Another
 * CPU's walk setting the same A/D bits costs one restart; only a guest
 * rewriting its entry over and over runs out. */
#define WALK_TRIES 16

/* Generic walk over `levels` tables of entries of `size` bytes, each
 * level indexing `bits` of the address. Large pages at levels where PS is
 * allowed (ps_ok mask of levels). */
static enum walk_result walk_tables(struct walk *w, u64 table, int levels, unsigned int ps_ok,
				    u64 *gpa)
{
	unsigned int size = w->mode == PAGING_32 ? 4 : 8;
	unsigned int bits = w->mode == PAGING_32 ? 10 : 9;
	u64 addr_mask = size == 8 ? 0x000ffffffffff000ull : 0xfffff000ull;

	for (int l = levels; l >= 1; l--) {
		unsigned int shift = 12 + bits * (l - 1);
		u64 idx = (w->la >> shift) & ((1u << bits) - 1);
		u64 epa = (table & addr_mask) + idx * size, e;
		if (read_entry(epa, size, &e))
			return WALK_NOT_RAM;
		if (!(e & 1))
			return WALK_FAULT;
		bool ps = l > 1 && (e & PTE_PS);
		bool large = ps && (ps_ok & BIT(l));
		bool leaf = l == 1 || large;
		if (e & reserved_bits(w, l, large, ps)) {
			w->err |= PF_P | PF_RSVD;
			return WALK_FAULT;
		}
		if (!check_entry(w, e, size, leaf))
			return WALK_FAULT;
		if (!set_ad(epa, size, e, leaf && w->acc == ACCESS_WRITE ? 0x60 : 0x20))
			return WALK_CHANGED;
		if (leaf) {
			u64 page_mask = (1ull << shift) - 1;
			u64 base = e & addr_mask & ~page_mask;
			if (size == 4 && large) /* PSE-36: bits 13-20 are address bits 32-39 */
				base = (e & 0xffc00000u) | ((e >> 13) & 0xffull) << 32;
			*gpa = base | (w->la & page_mask);
			return WALK_OK;
		}
		table = e;
	}
	return WALK_FAULT;
}

/* PAE paging: the PDPTE for la. Where the CPU holds the PDPTEs in
 * registers (VT-x: loaded at the last MOV to CR3, or to CR0/CR4 that
 * reloads them, and kept in the VMCS) those are used, not what memory
 * holds now; elsewhere (AMD-V with nested paging) it reads them from
 * memory at each walk, and one with a reserved bit set faults then. */
static enum walk_result pae_walk(struct vcpu *v, struct walk *w, u64 *gpa)
{
	unsigned int i = (w->la >> 30) & 3;
	u64 pdpte;

	if (!vendor->pae_pdpte || !vendor->pae_pdpte(v, i, &pdpte)) {
		if (read_entry((w->cr3 & 0xffffffe0u) + i * 8, 8, &pdpte))
			return WALK_NOT_RAM;
	}
	if (!(pdpte & 1))
		return WALK_FAULT;
	if (pdpte & guest_pae_pdpte_reserved()) {
		w->err |= PF_P | PF_RSVD;
		return WALK_FAULT;
	}
	return walk_tables(w, pdpte, 2, BIT(2), gpa);
}

static enum walk_result walk(struct vcpu *v, struct walk *w, u64 *gpa)
{
	switch (w->mode) {
	case PAGING_LONG:
		return walk_tables(w, w->cr3, (w->cr4 & CR4_LA57) ? 5 : 4, BIT(2) | BIT(3), gpa);
	case PAGING_PAE:
		return pae_walk(v, w, gpa);
	default:
		return walk_tables(w, w->cr3, 2, (w->cr4 & CR4_PSE) ? BIT(2) : 0, gpa);
	}
}

/* A walk's starting state, from the guest's registers (paging on);
 * false for a non-canonical address in long mode. */
static bool start_walk(struct vcpu *v, u64 la, enum guest_access acc, enum priv priv,
		       struct walk *w)
{
	u64 cr0 = vendor->get_reg(v, GUEST_CR0);
	u64 cr4 = vendor->get_reg(v, GUEST_CR4);
	u64 efer = vendor->get_reg(v, GUEST_EFER);

	*w = (struct walk){
		.acc = acc, .priv = priv, .la = la,
		.cr3 = vendor->get_reg(v, GUEST_CR3), .cr4 = cr4,
		.wp = cr0 & CR0_WP, .nx = efer & EFER_NXE,
		.smep = cr4 & CR4_SMEP, .smap = cr4 & CR4_SMAP, .ac = v->rflags & RFLAGS_AC,
		.writable = true, .user_ok = true, .exec_ok = true,
	};
	if (efer & EFER_LMA) {
		/* The walk reads bits 47:12 (56:12) only: a non-canonical
		 * address would alias a canonical one instead of faulting. */
		unsigned int unused = (cr4 & CR4_LA57) ? 64 - 57 : 64 - 48;
		w->mode = PAGING_LONG;
		return (u64)((s64)(la << unused) >> unused) == la;
	}
	w->la = la & 0xffffffffull;
	w->mode = (cr4 & CR4_PAE) ? PAGING_PAE : PAGING_32;
	if (w->mode == PAGING_32)
		w->nx = false;
	return true;
}

static u32 page_fault_code(const struct walk *w)
{
	return (w->err & (PF_P | PF_RSVD)) | (w->acc == ACCESS_WRITE ? PF_W : 0) |
	       (w->priv == PRIV_USER ? PF_U : 0) |
	       (w->acc == ACCESS_FETCH && (w->nx || w->smep) ? PF_I : 0);
}

static int translate(struct vcpu *v, u64 la, enum guest_access acc, enum priv priv,
		     u64 *gpa, struct emu_fault *f)
{
	struct walk start, w;
	enum walk_result r;
	unsigned int tries = 0;

	if (!(vendor->get_reg(v, GUEST_CR0) & CR0_PG)) {
		*gpa = la & 0xffffffffull;
		return 0;
	}
	read_paging_caps();
	if (!start_walk(v, la, acc, priv, &start)) {
		gp_fault(f);
		return -1;
	}
	do {
		w = start;
		r = walk(v, &w, gpa);
	} while (r == WALK_CHANGED && ++tries < WALK_TRIES);
	if (r == WALK_OK)
		return 0;
	if (r == WALK_CHANGED)
		*f = (struct emu_fault){ .vector = EMU_VECTOR_RETRY };
	else if (r == WALK_NOT_RAM)
		gp_fault(f); /* page tables outside RAM lamina may read */
	else
		page_fault(f, w.la, page_fault_code(&w));
	return -1;
}

static enum priv cpl_priv(struct vcpu *v)
{
	return vendor->cpl(v) == 3 ? PRIV_USER : PRIV_SUPER;
}

int guest_translate(struct vcpu *v, u64 la, enum guest_access acc, u64 *gpa,
		    struct emu_fault *f)
{
	return translate(v, la, acc, cpl_priv(v), gpa, f);
}

/* All or nothing, as the CPU does it: every page of the access is
 * translated and checked before a byte moves, so an access that faults on
 * its second page leaves the first untouched. */
static int copy_linear(struct vcpu *v, u64 la, void *buf, size_t n,
		       enum guest_access acc, enum priv priv, bool to_guest, struct emu_fault *f)
{
	u64 gpa[GUEST_COPY_MAX / PAGE_SIZE + 1];
	size_t chunk[ARRAY_SIZE(gpa)];
	unsigned int pages = 0;
	u8 *b = buf;

	if (n > GUEST_COPY_MAX) {
		gp_fault(f);
		return -1;
	}
	for (u64 a = la; n; pages++) {
		chunk[pages] = MIN(n, PAGE_SIZE - (a & (PAGE_SIZE - 1)));
		if (translate(v, a, acc, priv, &gpa[pages], f))
			return -1;
		if (!guest_ram_ok(gpa[pages], chunk[pages])) {
			gp_fault(f);
			return -1;
		}
		a += chunk[pages];
		n -= chunk[pages];
	}
	for (unsigned int i = 0; i < pages; b += chunk[i], i++) {
		if (to_guest)
			memcpy(phys_to_virt(gpa[i]), b, chunk[i]);
		else
			memcpy(b, phys_to_virt(gpa[i]), chunk[i]);
	}
	return 0;
}

int guest_read_linear(struct vcpu *v, u64 la, void *buf, size_t n,
		      enum guest_access acc, struct emu_fault *f)
{
	return copy_linear(v, la, buf, n, acc, cpl_priv(v), false, f);
}

int guest_write_linear(struct vcpu *v, u64 la, const void *buf, size_t n,
		       struct emu_fault *f)
{
	return copy_linear(v, la, (void *)buf, n, ACCESS_WRITE, cpl_priv(v), true, f);
}

int guest_copy_system(struct vcpu *v, u64 la, void *buf, size_t n, bool write,
		      struct emu_fault *f)
{
	return copy_linear(v, la, buf, n, write ? ACCESS_WRITE : ACCESS_READ, PRIV_IMPLICIT,
			   write, f);
}

/* The bytes at CS:RIP: 15, or -1 with *f when RIP's page cannot be
 * read, or fewer with *f the fault that stops the rest: the next page's,
 * or #GP(0) for bytes past CS's limit outside 64-bit mode (a code segment
 * never expands down). A decode that needs none of them is not held up. */
static int fetch_insn(struct vcpu *v, u8 *buf, struct emu_fault *f)
{
	struct segment cs;
	u64 la = v->rip, want = X86_MAX_INSN_LEN;
	bool wrap = vcpu_mode(v) != X86_MODE_64;

	vendor->get_seg(v, X86_CS, &cs);
	if (wrap) {
		if (v->rip > cs.limit) {
			gp_fault(f);
			return -1;
		}
		want = MIN(want, (u64)cs.limit - v->rip + 1);
		la = (cs.base + v->rip) & 0xffffffffull; /* linear addresses wrap at 4 GiB */
	}
	u64 first = MIN(want, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
	if (guest_read_linear(v, la, buf, first, ACCESS_FETCH, f))
		return -1;
	u64 next = wrap ? (la + first) & 0xffffffffull : la + first;
	if (first < want && guest_read_linear(v, next, buf + first, want - first, ACCESS_FETCH, f))
		return (int)first;
	if (want < X86_MAX_INSN_LEN)
		gp_fault(f);
	return (int)want;
}

enum insn_fetch guest_fetch_decode(struct vcpu *v, struct guest_insn *gi,
				   struct emu_fault *f)
{
	int n = fetch_insn(v, gi->bytes, f);

	gi->fetched = n < 0 ? 0 : (unsigned int)n;
	if (n < 0)
		return INSN_FETCH_FAULT;
	switch (x86_decode(gi->bytes, gi->fetched, vcpu_mode(v), &gi->insn)) {
	case 0:
		return INSN_OK;
	case X86_DECODE_SHORT:
		/* It goes on into the next page or past CS's limit: the CPU
		 * would have fetched from there, and raised the fault *f holds
		 * (or, for a retry, the bytes there are unknown yet: it runs
		 * again). */
		return INSN_FETCH_FAULT;
	case X86_DECODE_TOO_LONG:
		gp_fault(f);
		return INSN_INVALID;
	default:
		*f = (struct emu_fault){ .vector = 6 }; /* #UD */
		return INSN_INVALID;
	}
}
