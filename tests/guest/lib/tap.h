/* TAP results on COM1: "ok - what" / "not ok - what", "# " for notes,
 * and the end-of-test line "lamina-test: done NAME" before the exit. */
#ifndef GUEST_TAP_H
#define GUEST_TAP_H

#include <core/types.h>

/* Each kernel defines its name and the options its command line may
 * carry (NULL-terminated; "key" matches "key" and "key=value"). */
extern const char test_name[];
extern const char *const test_options[];
/* Each kernel's body; the library calls it after setting up. */
void test_main(void);

bool tap_check(bool cond, const char *fmt, ...) __printf(2, 3);
void tap_skip(const char *why, const char *fmt, ...) __printf(2, 3);
/* Checks got == want and, if not, shows both. */
bool tap_eq(u64 got, u64 want, const char *fmt, ...) __printf(3, 4);
/* Checks that a probe raised `want` (TRAP_NONE: raised nothing). */
bool tap_vec(int got, int want, const char *fmt, ...) __printf(3, 4);
/* Prints the counts and the done line, then exits the emulator. */
void __noreturn tap_done(void);
/* Exit QEMU (isa-debug-exit) or Bochs (shutdown port); halts if neither. */
void __noreturn machine_exit(void);

#endif
