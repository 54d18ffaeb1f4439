/* Finding the \_Sx sleep-type packages in AML bytes, without an AML
 * interpreter: firmware declares them as named packages of integer
 * constants (ACPI 6.5 7.4.2), and that is the form lamina recognises. */
#include <core/acpi_sleep.h>
#include <core/string.h>

#define AML_NAME_OP 0x08
#define AML_ROOT_CHAR 0x5c /* '\' */
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e

/* A PkgLength at aml[*at]: its bytes skipped, the length itself unused
 * (the elements are read one by one, each bounds-checked). */
static bool skip_pkg_length(const u8 *aml, size_t len, size_t *at)
{
	if (*at >= len)
		return false;
	*at += 1 + (aml[*at] >> 6);
	return *at <= len;
}

/* An integer constant at aml[*at] into *val. */
static bool read_integer(const u8 *aml, size_t len, size_t *at, u64 *val)
{
	static const u8 sizes[] = { [AML_BYTE_PREFIX] = 1, [AML_WORD_PREFIX] = 2,
				    [AML_DWORD_PREFIX] = 4, [AML_QWORD_PREFIX] = 8 };
	u8 op;

	if (*at >= len)
		return false;
	op = aml[(*at)++];
	if (op == AML_ZERO_OP || op == AML_ONE_OP) {
		*val = op;
		return true;
	}
	if (op >= ARRAY_SIZE(sizes) || !sizes[op] || len - *at < sizes[op])
		return false;
	*val = 0;
	memcpy(val, aml + *at, sizes[op]);
	*at += sizes[op];
	return true;
}

static bool parse_package(const u8 *aml, size_t len, size_t at, struct aml_sleep_pkg *pkg)
{
	u64 a, b;

	if (at >= len || aml[at++] != AML_PACKAGE_OP || !skip_pkg_length(aml, len, &at))
		return false;
	if (at >= len || aml[at++] < 2) /* NumElements */
		return false;
	if (!read_integer(aml, len, &at, &a) || !read_integer(aml, len, &at, &b) || a > 7 ||
	    b > 7)
		return false;
	pkg->slp_typ[0] = (u8)a;
	pkg->slp_typ[1] = (u8)b;
	return true;
}

bool aml_find_sleep_pkg(const u8 *aml, size_t len, size_t from, char digit,
			struct aml_sleep_pkg *pkg)
{
	const char name[4] = { '_', 'S', digit, '_' };

	for (size_t at = from; at + 4 <= len; at++) {
		if (memcmp(aml + at, name, 4) || at == 0)
			continue;
		size_t op = aml[at - 1] == AML_ROOT_CHAR && at >= 2 ? at - 2 : at - 1;
		if (aml[op] != AML_NAME_OP || !parse_package(aml, len, at + 4, pkg))
			continue;
		pkg->name_at = at;
		return true;
	}
	return false;
}
