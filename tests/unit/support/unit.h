/**
 * @file unit.h  Shared includes for the C unit tests (cmocka)
 *
 * Leaks are checked by running every test binary under valgrind (see
 * CMakeLists.txt): Debian's libre is built without mem_get_stat().
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>


/* Group fixtures for tests that need libre's main loop and timers
   (stubs.c) */
int unit_libre_setup(void **state);
int unit_libre_teardown(void **state);


/* The log stand-ins (stubs.c): quiet drops the lines (a fuzz target
   sets it), lines counts them, debug lines aside */
extern bool unit_log_quiet;
extern unsigned long unit_log_lines;
