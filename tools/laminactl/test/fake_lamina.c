/* The simulated lamina behind hc_call(): see fake_lamina.h. */
#include <string.h>

#include "../hypercall.h"
#include "fake_lamina.h"

struct fake_lamina fake;

static void exit_counts(struct hc_regs *r)
{
	uint64_t out[4] = { 0 };

	if (fake.counts_status) {
		r->rax = (uint64_t)fake.counts_status;
		return;
	}
	if (r->rbx >= fake.ncpus) {
		r->rax = (uint64_t)LAMINA_E_INVAL;
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		if (r->rcx + i < LAMINA_EXIT_COUNT)
			out[i] = fake.counts[r->rbx][r->rcx + i];
	r->rax = 0, r->rbx = out[0], r->rcx = out[1], r->rdx = out[2], r->rsi = out[3];
}

static void log_read(struct hc_regs *r)
{
	uint64_t len = strlen(fake.log), off = r->rbx, n;
	char text[32] = { 0 };

	if (fake.log_jump_after && ++fake.log_reads == fake.log_jump_after)
		fake.log_oldest = fake.log_jump_to;
	if (off < fake.log_oldest) {
		r->rax = (uint64_t)LAMINA_E_RANGE;
		return;
	}
	n = off >= len ? 0 : len - off;
	if (n > 32)
		n = 32;
	memcpy(text, fake.log + (off < len ? off : len), n);
	r->rax = n;
	memcpy(&r->rbx, text, 8);
	memcpy(&r->rcx, text + 8, 8);
	memcpy(&r->rdx, text + 16, 8);
	memcpy(&r->rsi, text + 24, 8);
}

int hc_call(struct hc_regs *r)
{
	if (fake.mode == FAKE_FAULT)
		return -1;
	if (fake.mode == FAKE_FOREIGN) {
		r->rax = (uint64_t)-1000; /* KVM's "no such hypercall" */
		return 0;
	}
	switch (r->rax) {
	case LAMINA_HC_VERSION:
		r->rax = 0, r->rbx = LAMINA_MAGIC, r->rcx = LAMINA_VERSION_CODE;
		r->rdx = LAMINA_VENDOR_AMD_SVM, r->rsi = fake.ncpus;
		break;
	case LAMINA_HC_EXIT_COUNTS:
		exit_counts(r);
		break;
	case LAMINA_HC_MEMINFO:
		r->rax = 0, r->rbx = fake.mem_base, r->rcx = fake.mem_size;
		break;
	case LAMINA_HC_LOG_READ:
		log_read(r);
		break;
	default:
		r->rax = (uint64_t)LAMINA_E_NOFUNC;
	}
	return 0;
}
