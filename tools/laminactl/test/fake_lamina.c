/* The simulated lamina behind hc_call(): see fake_lamina.h. */
#include <string.h>

#include "../hypercall.h"
#include "fake_lamina.h"

struct fake_lamina fake;

static void exit_count(struct hc_regs *r)
{
	uint64_t n = 0;

	if (fake.counts_status) {
		r->eax = (uint32_t)fake.counts_status;
		return;
	}
	if (r->ebx >= fake.ncpus) {
		r->eax = (uint32_t)LAMINA_E_INVAL;
		return;
	}
	if (r->ecx < LAMINA_EXIT_COUNT)
		n = fake.counts[r->ebx][r->ecx];
	r->eax = 0, r->ebx = (uint32_t)n, r->ecx = (uint32_t)(n >> 32), r->edx = 0, r->esi = 0;
}

static void log_read(struct hc_regs *r)
{
	uint64_t len = strlen(fake.log), off = (uint64_t)r->ecx << 32 | r->ebx, n;
	char text[16] = { 0 };

	if (fake.log_jump_after && ++fake.log_reads == fake.log_jump_after)
		fake.log_oldest = fake.log_jump_to;
	if (off < fake.log_oldest) {
		r->eax = (uint32_t)LAMINA_E_RANGE;
		return;
	}
	n = off >= len ? 0 : len - off;
	if (n > sizeof(text))
		n = sizeof(text);
	memcpy(text, fake.log + (off < len ? off : len), n);
	r->eax = (uint32_t)n;
	memcpy(&r->ebx, text, 4);
	memcpy(&r->ecx, text + 4, 4);
	memcpy(&r->edx, text + 8, 4);
	memcpy(&r->esi, text + 12, 4);
}

int hc_call(struct hc_regs *r)
{
	if (fake.mode == FAKE_FAULT)
		return -1;
	if (fake.mode == FAKE_FOREIGN) {
		r->eax = (uint32_t)-1000; /* KVM's "no such hypercall" */
		return 0;
	}
	switch (r->eax) {
	case LAMINA_HC_VERSION:
		r->eax = 0, r->ebx = LAMINA_SIGNATURE, r->ecx = LAMINA_VERSION_CODE;
		r->edx = LAMINA_VENDOR_AMD_SVM, r->esi = (uint32_t)fake.ncpus;
		break;
	case LAMINA_HC_EXIT_COUNT:
		exit_count(r);
		break;
	case LAMINA_HC_MEMINFO:
		r->eax = 0, r->ebx = (uint32_t)fake.mem_base, r->ecx = (uint32_t)(fake.mem_base >> 32);
		r->edx = (uint32_t)fake.mem_size, r->esi = (uint32_t)(fake.mem_size >> 32);
		break;
	case LAMINA_HC_LOG_READ:
		log_read(r);
		break;
	default:
		r->eax = (uint32_t)LAMINA_E_NOFUNC;
	}
	return 0;
}
