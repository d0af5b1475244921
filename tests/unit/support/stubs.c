/**
 * @file stubs.c  Stand-ins for baresip's log functions in unit tests, and
 *                the libre fixtures
 *
 * Our code logs through baresip (which the test binaries do not load);
 * these print to stderr with libre's formatter so %m, %r, %J still work.
 * A fuzz target, which runs millions of inputs, sets unit_log_quiet: the
 * lines are still formatted (with what the input put in them), counted
 * and dropped.
 */

#include <stdarg.h>
#include <re.h>
#include "unit.h"
#include "bsapi.h"


bool unit_log_quiet;
unsigned long unit_log_lines;


static int discard(const char *p, size_t size, void *arg)
{
	(void)p;
	(void)size;
	(void)arg;

	return 0;
}


static void vlog_stderr(const char *lvl, const char *fmt, va_list ap)
{
	++unit_log_lines;

	if (unit_log_quiet) {
		(void)re_vhprintf(fmt, ap, discard, NULL);
		return;
	}

	(void)re_fprintf(stderr, "[%s] ", lvl);
	(void)re_vfprintf(stderr, fmt, ap);
}


void debug(const char *fmt, ...)
{
	va_list ap;

	if (!getenv("UNIT_DEBUG"))
		return;

	va_start(ap, fmt);
	vlog_stderr("debug", fmt, ap);
	va_end(ap);
}


void info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_stderr("info", fmt, ap);
	va_end(ap);
}


void loglv(enum log_level level, const char *fmt, ...)
{
	static const char *const namev[] = {"debug", "info", "warning",
					    "error"};
	va_list ap;

	va_start(ap, fmt);
	vlog_stderr(namev[level & 3], fmt, ap);
	va_end(ap);
}


void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_stderr("warning", fmt, ap);
	va_end(ap);
}


/** A group setup: libre initialised (timers, main loop) */
int unit_libre_setup(void **state)
{
	(void)state;

	return libre_init();
}


/** The group teardown matching unit_libre_setup() */
int unit_libre_teardown(void **state)
{
	(void)state;
	libre_close();

	return 0;
}
