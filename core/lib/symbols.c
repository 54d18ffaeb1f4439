/* Function names for call chains, from the table tools/gen-symbols.sh
 * generates at link time. */
#include <core/symbols.h>

struct symbol {
	u64 addr;
	const char *name;
};

extern const u64 lamina_symbol_count;
extern const struct symbol lamina_symbol_table[];
extern char _text_start[], _text_end[];

const char *symbol_lookup(u64 addr, u64 *offset)
{
	u64 lo = 0, hi = lamina_symbol_count;

	if (addr < (uintptr_t)_text_start || addr >= (uintptr_t)_text_end || !hi)
		return NULL;
	/* The last symbol at or below addr. */
	while (hi - lo > 1) {
		u64 mid = (lo + hi) / 2;
		if (lamina_symbol_table[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (lamina_symbol_table[lo].addr > addr)
		return NULL;
	*offset = addr - lamina_symbol_table[lo].addr;
	return lamina_symbol_table[lo].name;
}
