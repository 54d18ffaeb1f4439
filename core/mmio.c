/* Nested page faults: find the trapped range, emulate the instruction
 * that faulted against it (the emulator reaches memory through the
 * guest's page tables, so a MOVS between RAM and a trapped page works),
 * and step the guest past it. */
#include <core/exit_handlers.h>
#include <core/format.h>
#include <core/guest_mem.h>
#include <core/log.h>
#include <core/mm.h>
#include <core/mmio.h>
#include <core/nested.h>
#include <core/spinlock.h>
#include <core/string.h>
#include <x86/pagetable.h>

static struct mmio_region *regions;
static spinlock_t regions_lock = SPINLOCK_INIT;

int mmio_register(struct mmio_region *r)
{
	spin_lock(&regions_lock);
	r->next = regions;
	__atomic_store_n(&regions, r, __ATOMIC_RELEASE);
	spin_unlock(&regions_lock);
	return nested_protect(r->base, r->size, r->trap_reads ? 0 : PT_R | PT_X);
}

void mmio_unregister(struct mmio_region *r)
{
	spin_lock(&regions_lock);
	for (struct mmio_region **p = &regions; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	spin_unlock(&regions_lock);
	/* Regions are static objects: a CPU still reading r->next is safe. */
	nested_restore(r->base, r->size);
}

static struct mmio_region *find_region(u64 gpa)
{
	for (struct mmio_region *r = __atomic_load_n(&regions, __ATOMIC_ACQUIRE); r;
	     r = r->next)
		if (gpa >= r->base && gpa < r->base + r->size)
			return r;
	return NULL;
}

/* Where nothing answers, reads float to all-ones and writes vanish, as on
 * a PC bus. */
static void absent_read(struct vcpu *v, struct mmio_region *r, u64 gpa, void *data,
			unsigned int size)
{
	memset(data, 0xff, size);
}

static void absent_write(struct vcpu *v, struct mmio_region *r, u64 gpa,
			 const void *data, unsigned int size)
{
}

const struct mmio_ops mmio_absent_ops = { absent_read, absent_write };

/* Physical addresses beyond the nested map. */
static struct mmio_region unassigned = { .name = "unassigned", .ops = &mmio_absent_ops,
					 .trap_reads = true };

/* The first access there is reported: a device the guest moved above
 * the nested map's end (nested_init) would read all-ones. */
static void report_unassigned(u64 gpa)
{
	static bool reported;

	if (!__atomic_exchange_n(&reported, true, __ATOMIC_RELAXED))
		log_warn("the guest reached %#llx, above the end of the nested page tables "
			 "(%#llx): nothing answers there (reported once)",
			 (unsigned long long)gpa, (unsigned long long)nested_limit());
}

static struct log_limit untrapped_warnings = LOG_LIMIT("emulated accesses to untrapped "
							"device memory");
static struct log_limit fetch_warnings = LOG_LIMIT("code run from trapped memory");

static struct mmio_region *region_for(u64 gpa)
{
	struct mmio_region *r = find_region(gpa);

	if (!r && gpa >= nested_limit()) {
		report_unassigned(gpa);
		r = &unassigned;
	}
	return r;
}

/* The instruction being emulated after a nested page fault: the region
 * that faulted answers for its page even if it has been unregistered
 * since (regions are static objects), so the access is not lost. */
struct npf_emulation {
	struct vcpu *v;
	struct mmio_region *r;
	u64 page;
};

/* Where one access of the emulated instruction, at most one page long,
 * goes: a region, or RAM (*r NULL); -1 (with ctx->fault) for device
 * memory lamina does not trap. A write-trapped region still answers the
 * reads of an instruction that also writes it (XCHG, ADD to memory, ...). */
static int page_target(struct emu_ctx *ctx, u64 gpa, unsigned int size, struct mmio_region **r)
{
	const struct npf_emulation *ne = ctx->opaque;

	*r = ALIGN_DOWN(gpa, PAGE_SIZE) == ne->page ? ne->r : region_for(gpa);
	if (*r || guest_ram_ok(gpa, size))
		return 0;
	/* Untrapped device memory as the other operand: not emulated. */
	if (log_limit_pass(&untrapped_warnings))
		log_warn("emulation: access to %#llx (not RAM, not trapped); #GP", (unsigned long long)gpa);
	ctx->fault = (struct emu_fault){ .vector = 13, .has_error = true };
	return -1;
}

/* The width of the next piece of an access: all of it when that is 1,
 * 2, 4 or 8 bytes, as the CPU would make it; else (a part of an access
 * that crosses a page boundary) the widest naturally aligned one. */
static unsigned int piece_width(u64 gpa, unsigned int left)
{
	if (left == 1 || left == 2 || left == 4 || left == 8)
		return left;
	for (unsigned int n = 4;; n /= 2)
		if (n <= left && !(gpa & (n - 1)))
			return n;
}

static void access_page(const struct npf_emulation *ne, struct mmio_region *r, u64 gpa,
			void *data, unsigned int size, bool write)
{
	for (unsigned int done = 0, n; done < size; done += n) {
		u8 *piece = (u8 *)data + done;
		u64 at = gpa + done, val = 0;

		n = piece_width(at, size - done);
		if (r && write)
			r->ops->write(ne->v, r, at, piece, n);
		else if (r)
			r->ops->read(ne->v, r, at, piece, n);
		else if (write) {
			memcpy(&val, piece, n);
			mem_write_sized(phys_to_virt(at), n, val);
		} else {
			val = mem_read_sized(phys_to_virt(at), n);
			memcpy(piece, &val, n);
		}
	}
}

/* Both pages of an access that crosses a page boundary are translated
 * (for acc), and found to be RAM or trapped, before either is touched:
 * one that faults on its second page leaves the first alone, as on the
 * CPU. */
static int emu_access(struct emu_ctx *ctx, u64 la, void *data, unsigned int size,
		      enum guest_access acc, bool write)
{
	const struct npf_emulation *ne = ctx->opaque;
	unsigned int first = MIN(size, (unsigned int)(PAGE_SIZE - (la & (PAGE_SIZE - 1))));
	struct mmio_region *r0, *r1 = NULL;
	u64 gpa0, gpa1 = 0;

	if (guest_translate(ne->v, la, acc, &gpa0, &ctx->fault) ||
	    (first < size && guest_translate(ne->v, la + first, acc, &gpa1, &ctx->fault)))
		return -1;
	if (page_target(ctx, gpa0, first, &r0) ||
	    (first < size && page_target(ctx, gpa1, size - first, &r1)))
		return -1;
	access_page(ne, r0, gpa0, data, first, write);
	if (first < size)
		access_page(ne, r1, gpa1, (u8 *)data + first, size - first, write);
	vcpu_note_access(ne->v, la, size, write);
	return 0;
}

static int emu_read(struct emu_ctx *ctx, u64 la, void *data, unsigned int size, bool for_write)
{
	return emu_access(ctx, la, data, size, for_write ? ACCESS_WRITE : ACCESS_READ, false);
}

static int emu_write(struct emu_ctx *ctx, u64 la, const void *data, unsigned int size)
{
	return emu_access(ctx, la, (void *)data, size, ACCESS_WRITE, true);
}

static const struct emu_ops emu_ops = { emu_read, emu_write };

static void log_unsupported(struct vcpu *v, const struct guest_insn *gi, u64 gpa)
{
	char then[64];

	format(then, sizeof(then), " touching %#llx; #GP to the guest", (unsigned long long)gpa);
	vcpu_warn_insn(v, gi->bytes, gi->insn.len, "cannot emulate the instruction", then);
}

static void emulate_at_rip(struct vcpu *v, struct mmio_region *r, u64 gpa)
{
	struct npf_emulation ne = { v, r, ALIGN_DOWN(gpa, PAGE_SIZE) };
	struct emu_ctx ctx = { .ops = &emu_ops, .opaque = &ne };
	struct guest_insn gi;
	enum emu_result result;

	if (!vcpu_fetch_insn(v, &gi))
		return;
	vcpu_load_emu(v, &ctx);
	if (vcpu_steps_each_iteration(v))
		ctx.max_rep = 1;
	v->db_hits = 0;
	switch ((result = x86_emulate(&ctx, &gi.insn))) {
	case EMU_OK:
	case EMU_CONTINUE:
		vcpu_store_emu(v, &ctx);
		vcpu_insn_done(v, result == EMU_OK);
		break;
	case EMU_FAULT:
		vcpu_store_emu(v, &ctx);
		vcpu_inject_fault(v, &ctx.fault);
		break;
	case EMU_UNSUPPORTED:
		log_unsupported(v, &gi, gpa);
		vcpu_inject_gp(v, 0);
		break;
	}
}

void exit_nested_fault(struct vcpu *v)
{
	const struct vm_exit *e = &v->exit;
	struct mmio_region *r = region_for(e->npf.gpa);
	char why[128];

	if (!r || (!r->trap_reads && !e->npf.write && !e->npf.fetch)) {
		/* Nothing trapped here: a stale nested TLB entry after the
		 * mapping was widened. Flush and retry. */
		if (nested_allows(e->npf.gpa, e->npf.write, e->npf.fetch)) {
			vendor->flush_nested(v);
			return;
		}
		r = &unassigned;
	}
	if (e->npf.in_walk || e->event_pending) {
		format(why, sizeof(why), "it used %s memory at %#llx for %s",
		       r->name, (unsigned long long)e->npf.gpa,
		       e->npf.in_walk ? "its page tables" : "delivering an interrupt");
		guest_stop(v, why);
	}
	if (e->npf.fetch) {
		/* Code fetched from there reads as 0xff bytes: no valid opcode. */
		if (log_limit_pass(&fetch_warnings))
			log_warn("guest executed from %s memory at %#llx; #UD", r->name,
				 (unsigned long long)e->npf.gpa);
		return vcpu_inject_ud(v);
	}
	emulate_at_rip(v, r, e->npf.gpa);
}
