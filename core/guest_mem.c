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
#define PF_I BIT(4)

static void page_fault(struct emu_fault *f, u64 la, u32 err)
{
	*f = (struct emu_fault){ .vector = 14, .has_error = true, .error_code = err, .cr2 = la };
}

static void gp_fault(struct emu_fault *f)
{
	*f = (struct emu_fault){ .vector = 13, .has_error = true, .error_code = 0 };
}

struct walk {
	struct vcpu *v;
	enum guest_access acc;
	bool user, wp, nx;
	u64 la;
	u32 err;          /* #PF error code bits gathered so far */
	bool writable, user_ok, exec_ok;
};

/* Read one paging-structure entry (4 or 8 bytes) from guest RAM. */
static int read_entry(u64 pa, unsigned int size, u64 *e)
{
	if (!guest_ram_ok(pa, size))
		return -1;
	*e = 0;
	memcpy(e, phys_to_virt(pa), size);
	return 0;
}

/* Set accessed (and dirty on a leaf written through) as the CPU would.
 * Usually they are set already (the CPU just used the entry): then no
 * locked write. */
static void set_ad(u64 pa, unsigned int size, u64 e, u64 bits)
{
	if ((e & bits) == bits)
		return;
	if (size == 8)
		__atomic_fetch_or((u64 *)phys_to_virt(pa), bits, __ATOMIC_RELAXED);
	else
		__atomic_fetch_or((u32 *)phys_to_virt(pa), (u32)bits, __ATOMIC_RELAXED);
}

/* Check one entry; returns false (with w->err) when the walk must fault. */
static bool check_entry(struct walk *w, u64 e, unsigned int size, bool leaf)
{
	if (!(e & 1))
		return false;
	w->writable &= !!(e & 2);
	w->user_ok &= !!(e & 4);
	if (size == 8 && (e & BIT(63)) && w->nx)
		w->exec_ok = false;
	if (!leaf)
		return true;
	w->err |= PF_P;
	if (w->user && !w->user_ok)
		return false;
	if (w->acc == ACCESS_WRITE && !w->writable && (w->user || w->wp))
		return false;
	if (w->acc == ACCESS_FETCH && !w->exec_ok)
		return false;
	return true;
}

/* Generic walk over `levels` tables of entries of `size` bytes, each
 * level indexing `bits` of the address. Large pages at levels where PS is
 * allowed (ps_ok mask of levels). */
static int walk_tables(struct walk *w, u64 table, int levels, unsigned int size,
		       unsigned int bits, unsigned int ps_ok, u64 *gpa)
{
	u64 addr_mask = size == 8 ? 0x000ffffffffff000ull : 0xfffff000ull;

	for (int l = levels; l >= 1; l--) {
		unsigned int shift = 12 + bits * (l - 1);
		u64 idx = (w->la >> shift) & ((1u << bits) - 1);
		u64 epa = (table & addr_mask) + idx * size, e;
		if (read_entry(epa, size, &e))
			return -2;
		bool large = l > 1 && (ps_ok & BIT(l)) && (e & BIT(7));
		bool leaf = l == 1 || large;
		if (!check_entry(w, e, size, leaf))
			return -1;
		set_ad(epa, size, e, leaf && w->acc == ACCESS_WRITE ? 0x60 : 0x20);
		if (leaf) {
			u64 page_mask = (1ull << shift) - 1;
			u64 base = e & addr_mask & ~page_mask;
			if (size == 4 && large) /* PSE-36: bits 13-20 are address bits 32-39 */
				base = (e & 0xffc00000u) | ((e >> 13) & 0xffull) << 32;
			*gpa = base | (w->la & page_mask);
			return 0;
		}
		table = e;
	}
	return -1;
}

static int translate(struct vcpu *v, u64 la, enum guest_access acc, bool user, u64 *gpa,
		     struct emu_fault *f)
{
	u64 cr0 = vendor->get_reg(v, GUEST_CR0);
	u64 cr4 = vendor->get_reg(v, GUEST_CR4);
	u64 cr3 = vendor->get_reg(v, GUEST_CR3);
	u64 efer = vendor->get_reg(v, GUEST_EFER);
	struct walk w = {
		.v = v, .acc = acc, .la = la, .user = user,
		.wp = cr0 & CR0_WP, .nx = efer & EFER_NXE,
		.writable = true, .user_ok = true, .exec_ok = true,
	};
	int r;

	if (!(cr0 & CR0_PG)) {
		*gpa = la & 0xffffffffull;
		return 0;
	}
	if (efer & EFER_LMA) {
		/* The walk reads bits 47:12 (56:12) only: a non-canonical
		 * address would alias a canonical one instead of faulting. */
		unsigned int unused = (cr4 & CR4_LA57) ? 64 - 57 : 64 - 48;
		if ((u64)((s64)(la << unused) >> unused) != la) {
			gp_fault(f);
			return -1;
		}
		r = walk_tables(&w, cr3, (cr4 & CR4_LA57) ? 5 : 4, 8, 9, BIT(2) | BIT(3), gpa);
	} else if (cr4 & CR4_PAE) {
		u64 pdpte;
		la &= 0xffffffffull;
		w.la = la;
		if (read_entry((cr3 & 0xffffffe0u) + ((la >> 30) & 3) * 8, 8, &pdpte))
			r = -2;
		else if (!(pdpte & 1))
			r = -1;
		else
			r = walk_tables(&w, pdpte, 2, 8, 9, BIT(2), gpa);
	} else {
		w.la = la & 0xffffffffull;
		r = walk_tables(&w, cr3, 2, 4, 10, (cr4 & CR4_PSE) ? BIT(2) : 0, gpa);
	}
	if (r == -2) {
		gp_fault(f); /* page tables outside RAM lamina may read */
		return -1;
	}
	if (r < 0) {
		u32 err = (w.err & PF_P) | (acc == ACCESS_WRITE ? PF_W : 0) |
			  (w.user ? PF_U : 0) |
			  (acc == ACCESS_FETCH && (w.nx || (cr4 & BIT(20))) ? PF_I : 0);
		page_fault(f, la, err);
		return -1;
	}
	return 0;
}

int guest_translate(struct vcpu *v, u64 la, enum guest_access acc, u64 *gpa,
		    struct emu_fault *f)
{
	return translate(v, la, acc, vendor->cpl(v) == 3, gpa, f);
}

/* user: the access is checked as one from ring 3 (false for the CPU's
 * implicit supervisor accesses to descriptor tables and TSSs). */
static int copy_linear(struct vcpu *v, u64 la, void *buf, size_t n,
		       enum guest_access acc, bool user, bool to_guest, struct emu_fault *f)
{
	u8 *b = buf;

	while (n) {
		size_t chunk = MIN(n, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
		u64 gpa;
		if (translate(v, la, acc, user, &gpa, f))
			return -1;
		if (!guest_ram_ok(gpa, chunk)) {
			gp_fault(f);
			return -1;
		}
		if (to_guest)
			memcpy(phys_to_virt(gpa), b, chunk);
		else
			memcpy(b, phys_to_virt(gpa), chunk);
		la += chunk;
		b += chunk;
		n -= chunk;
	}
	return 0;
}

int guest_read_linear(struct vcpu *v, u64 la, void *buf, size_t n,
		      enum guest_access acc, struct emu_fault *f)
{
	return copy_linear(v, la, buf, n, acc, vendor->cpl(v) == 3, false, f);
}

int guest_write_linear(struct vcpu *v, u64 la, const void *buf, size_t n,
		       struct emu_fault *f)
{
	return copy_linear(v, la, (void *)buf, n, ACCESS_WRITE, vendor->cpl(v) == 3, true, f);
}

int guest_copy_system(struct vcpu *v, u64 la, void *buf, size_t n, bool write,
		      struct emu_fault *f)
{
	return copy_linear(v, la, buf, n, write ? ACCESS_WRITE : ACCESS_READ, false, write, f);
}

int guest_fetch_insn(struct vcpu *v, u8 *buf, struct emu_fault *f)
{
	struct segment cs;
	u64 la;

	vendor->get_seg(v, X86_CS, &cs);
	la = (vcpu_mode(v) == X86_MODE_64 ? 0 : cs.base) + v->rip;
	if (vcpu_mode(v) != X86_MODE_64)
		la &= 0xffffffffull;
	/* Read what lies in the first page, then as much of the next as is
	 * readable: an instruction at the end of mapped memory is short. */
	size_t first = MIN((size_t)X86_MAX_INSN_LEN, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
	if (guest_read_linear(v, la, buf, first, ACCESS_FETCH, f))
		return -1;
	if (first < X86_MAX_INSN_LEN) {
		struct emu_fault ignored;
		if (!guest_read_linear(v, la + first, buf + first,
				       X86_MAX_INSN_LEN - first, ACCESS_FETCH, &ignored))
			return X86_MAX_INSN_LEN;
	}
	return (int)first;
}
