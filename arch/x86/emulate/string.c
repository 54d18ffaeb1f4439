/* MOVS, STOS and LODS, with REP (SDM vol. 2, "REP/REPE/REPZ/REPNE/REPNZ").
 * rSI, rDI and the count rCX are the address-size parts of the registers
 * (SI, ESI or RSI ...) and wrap at that size. F2 repeats these instructions
 * just as F3 does. A REP runs at most ctx->max_rep iterations per call and
 * then returns EMU_CONTINUE with RIP on the instruction, so that lamina
 * can take interrupts and re-enter, as the CPU does between iterations. */
#include "emul.h"

#define DEFAULT_MAX_REP 1024

/* One iteration; registers change only when its accesses succeed. */
static int string_step(struct emu_ctx *ctx, const struct x86_insn *insn)
{
	unsigned int size = insn->opsize, ad = insn->adsize;
	u64 step = ctx->rflags & X86_FLAGS_DF ? -(u64)size : size;
	u64 si = emu_gpr_get(ctx, X86_RSI, ad), di = emu_gpr_get(ctx, X86_RDI, ad);
	u64 src = emu_linear(ctx, emu_data_seg(insn), si);
	u64 dst = emu_linear(ctx, X86_ES, di); /* ES cannot be overridden */
	u64 v = 0;

	if (insn->op == X86_OP_STOS)
		v = emu_gpr_get(ctx, X86_RAX, size);
	else if (ctx->ops->read(ctx, src, &v, size, false))
		return -1;
	if (insn->op != X86_OP_LODS && ctx->ops->write(ctx, dst, &v, size))
		return -1;
	if (insn->op == X86_OP_LODS)
		emu_gpr_set(ctx, X86_RAX, size, v);
	if (insn->op != X86_OP_STOS)
		emu_gpr_set(ctx, X86_RSI, ad, si + step);
	if (insn->op != X86_OP_LODS)
		emu_gpr_set(ctx, X86_RDI, ad, di + step);
	return 0;
}

enum emu_result emu_string(struct emu_ctx *ctx, const struct x86_insn *insn)
{
	bool rep = insn->prefixes & (X86_PFX_REP | X86_PFX_REPNE);
	unsigned int ad = insn->adsize, done = 0;
	unsigned int max = ctx->max_rep ? ctx->max_rep : DEFAULT_MAX_REP;
	u64 count;

	if (!rep) {
		if (string_step(ctx, insn))
			return EMU_FAULT;
		emu_advance_rip(ctx, insn);
		return EMU_OK;
	}
	while ((count = emu_gpr_get(ctx, X86_RCX, ad)) != 0) {
		if (done++ == max)
			return EMU_CONTINUE;
		if (string_step(ctx, insn))
			return EMU_FAULT;
		emu_gpr_set(ctx, X86_RCX, ad, count - 1);
	}
	emu_advance_rip(ctx, insn);
	return EMU_OK;
}
