/* Port I/O exits: hooked ranges get the access, ports without a hook the
 * hardware; an access across a hook's edge is split by byte. String forms
 * (INS/OUTS, with REP) are emulated through the guest's page tables, one
 * element at a time. */
#include <core/exit_handlers.h>
#include <core/guest_mem.h>
#include <core/io.h>
#include <core/log.h>
#include <core/spinlock.h>
#include <x86/cpu.h>

static struct io_hook *hooks;
static spinlock_t hooks_lock = SPINLOCK_INIT;

int io_hook_register(struct io_hook *h)
{
	if (!vendor->intercept_io) {
		log_err("the %s back end cannot intercept port I/O: '%s' not hooked",
			vendor->name, h->name);
		return -1;
	}
	spin_lock(&hooks_lock);
	h->next = hooks;
	__atomic_store_n(&hooks, h, __ATOMIC_RELEASE);
	spin_unlock(&hooks_lock);
	for (u32 p = h->base; p < (u32)h->base + h->count; p++)
		vendor->intercept_io((u16)p, true);
	return 0;
}

static struct io_hook *find_hook(u16 port)
{
	for (struct io_hook *h = __atomic_load_n(&hooks, __ATOMIC_ACQUIRE); h; h = h->next)
		if (port >= h->base && port - h->base < h->count)
			return h;
	return NULL;
}

/* Ports where nothing answers: reads all-ones, writes dropped. */
static u32 absent_in(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size)
{
	return (u32)(BIT(size * 8) - 1);
}

static void absent_out(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size,
		       u32 val)
{
}

const struct io_ops io_absent_ops = { absent_in, absent_out };

u32 io_pass_read(struct vcpu *v, struct io_hook *h, u16 port, unsigned int size)
{
	return io_port_read(port, size);
}

u32 io_port_read(u16 port, unsigned int size)
{
	u32 v;

	if (size == 1)
		__asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port));
	else if (size == 2)
		__asm__ volatile("inw %w1, %w0" : "=a"(v) : "Nd"(port));
	else
		__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port));
	return v & (u32)(BIT(size * 8) - 1);
}

void io_port_write(u16 port, unsigned int size, u32 val)
{
	if (size == 1)
		__asm__ volatile("outb %b0, %w1" ::"a"(val), "Nd"(port));
	else if (size == 2)
		__asm__ volatile("outw %w0, %w1" ::"a"(val), "Nd"(port));
	else
		__asm__ volatile("outl %0, %w1" ::"a"(val), "Nd"(port));
}

/* Whether one owner (a hook, or the hardware) has every port of the
 * access: the I/O bitmap makes an access exit if any of its ports is
 * intercepted, and the ports beside a hook's edge are not the hook's. */
static bool one_owner(u16 port, unsigned int size, struct io_hook **owner)
{
	*owner = find_hook(port);
	for (u32 p = port + 1u; p < port + size; p++)
		if (p > 0xffff || find_hook((u16)p) != *owner)
			return false;
	return true;
}

/* An access across an owner's edge goes byte by byte, each to its owner
 * (none above port FFFF: all-ones, dropped). */
static u32 port_in(struct vcpu *v, u16 port, unsigned int size)
{
	struct io_hook *h;
	u32 val = 0;

	if (one_owner(port, size, &h))
		return h ? h->ops->read(v, h, port, size) : io_port_read(port, size);
	for (u32 i = 0; i < size; i++)
		val |= (port + i > 0xffff ? 0xffu : port_in(v, (u16)(port + i), 1)) << (8 * i);
	return val;
}

static void port_out(struct vcpu *v, u16 port, unsigned int size, u32 val)
{
	struct io_hook *h;

	if (!one_owner(port, size, &h)) {
		for (u32 i = 0; i < size && port + i <= 0xffff; i++)
			port_out(v, (u16)(port + i), 1, (val >> (8 * i)) & 0xff);
	} else if (h) {
		h->ops->write(v, h, port, size, val);
	} else {
		io_port_write(port, size, val);
	}
}

/* INS/OUTS: ES:rDI for INS, seg:rSI (DS or override) for OUTS; one
 * element per step, RCX counted down for REP, DF respected. */
static void string_io(struct vcpu *v, const struct vm_exit *e)
{
	struct emu_ctx ctx;
	struct guest_insn gi;
	const struct x86_insn *insn = &gi.insn;

	if (!vcpu_fetch_insn(v, &gi))
		return;
	vcpu_load_emu(v, &ctx);
	u64 amask = insn->adsize == 8 ? ~0ull : BIT(insn->adsize * 8) - 1;
	enum x86_gpr idx = e->io.in ? X86_RDI : X86_RSI;
	enum x86_seg seg = e->io.in ? X86_ES
		: insn->seg_override != X86_SEG_NONE ? insn->seg_override : X86_DS;
	u64 base = ctx.mode == X86_MODE_64 && seg < X86_FS ? 0 : ctx.seg_base[seg];
	s64 step = (v->rflags & X86_FLAGS_DF) ? -(s64)e->io.size : e->io.size;
	u64 count = e->io.rep ? v->gpr[X86_RCX] & amask : 1;

	if (vcpu_steps_each_iteration(v))
		count = MIN(count, 1);
	v->db_hits = 0;

	for (u64 i = 0; i < count && i < 4096; i++) {
		u64 la = base + (v->gpr[idx] & amask);
		if (ctx.mode != X86_MODE_64)
			la &= 0xffffffffull; /* linear addresses wrap at 4 GiB */
		u32 val = 0;
		if (!e->io.in && guest_read_linear(v, la, &val, e->io.size, ACCESS_READ, &ctx.fault))
			return vcpu_inject_fault(v, &ctx.fault);
		if (e->io.in) {
			val = port_in(v, e->io.port, e->io.size);
			if (guest_write_linear(v, la, &val, e->io.size, &ctx.fault))
				return vcpu_inject_fault(v, &ctx.fault);
		} else {
			port_out(v, e->io.port, e->io.size, val);
		}
		vcpu_note_access(v, la, e->io.size, e->io.in);
		v->gpr[idx] = x86_reg_write(v->gpr[idx], insn->adsize, v->gpr[idx] + step);
		if (e->io.rep)
			v->gpr[X86_RCX] = x86_reg_write(v->gpr[X86_RCX], insn->adsize,
							v->gpr[X86_RCX] - 1);
	}
	/* A long REP is resumed by re-executing it: RIP stays. */
	if (!e->io.rep || !(v->gpr[X86_RCX] & amask))
		vcpu_skip_insn(v);
	else
		vcpu_insn_done(v, false);
}

void exit_io(struct vcpu *v)
{
	const struct vm_exit *e = &v->exit;
	u64 mask = BIT(e->io.size * 8) - 1;

	if (e->io.string)
		return string_io(v, e);
	if (e->io.in) {
		u32 val = port_in(v, e->io.port, e->io.size);
		/* IN EAX zero-extends into RAX; IN AL/AX keep the rest. */
		v->gpr[X86_RAX] = e->io.size == 4 ? val : (v->gpr[X86_RAX] & ~mask) | val;
	} else {
		port_out(v, e->io.port, e->io.size, (u32)(v->gpr[X86_RAX] & mask));
	}
	vcpu_skip_insn(v);
}
