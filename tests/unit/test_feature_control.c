/* IA32_FEATURE_CONTROL before VMXON (arch/x86/vmx/feature_control.c):
 * an unlocked MSR is enabled and locked with its other bits kept (the
 * path Bochs, which pre-locks it, cannot take); a locked one is left as it
 * is, allowing VMX only with "VMX outside SMX" set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "feature_control.h" /* arch/x86/vmx, on the include path */

#define LOCK BIT(0)
#define VMX_IN_SMX BIT(1)
#define VMX_OUTSIDE_SMX BIT(2)
#define SENTER_BITS (0x7full << 8)
#define SGX BIT(18)

static void test_unlocked_zero_is_enabled_and_locked(void **state)
{
	u64 w = 0;

	assert_true(feature_control_allows_vmx(0, &w));
	assert_int_equal(w, LOCK | VMX_OUTSIDE_SMX);
}

static void test_unlocked_keeps_other_bits(void **state)
{
	u64 fc = VMX_IN_SMX | SENTER_BITS | SGX, w = 0;

	assert_true(feature_control_allows_vmx(fc, &w));
	assert_int_equal(w, fc | LOCK | VMX_OUTSIDE_SMX);
}

static void test_locked_with_vmx_is_left_alone(void **state)
{
	u64 fc = LOCK | VMX_OUTSIDE_SMX | SGX, w = 0;

	assert_true(feature_control_allows_vmx(fc, &w));
	assert_int_equal(w, fc);
}

static void test_locked_without_vmx_refuses(void **state)
{
	u64 w;

	assert_false(feature_control_allows_vmx(LOCK, &w));
	/* VMX inside SMX only is no use to lamina, which does not run in SMX. */
	assert_false(feature_control_allows_vmx(LOCK | VMX_IN_SMX | SENTER_BITS, &w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlocked_zero_is_enabled_and_locked),
		cmocka_unit_test(test_unlocked_keeps_other_bits),
		cmocka_unit_test(test_locked_with_vmx_is_left_alone),
		cmocka_unit_test(test_locked_without_vmx_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
