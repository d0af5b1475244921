/**
 * @file sptime.c  Wall-clock time for the API: unix ms and RFC 3339
 */

#include <time.h>
#include "sipphone.h"


/** Wall-clock time in unix milliseconds */
uint64_t sptime_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);

	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}


/**
 * Format a unix time as RFC 3339 UTC with milliseconds
 *
 * @param buf      Output, at least SPTIME_STRLEN bytes
 * @param sz       Size of buf
 * @param unix_ms  Time in unix milliseconds
 *
 * @return 0 if success, otherwise errorcode
 */
int sptime_fmt(char *buf, size_t sz, uint64_t unix_ms)
{
	time_t secs = (time_t)(unix_ms / 1000);
	struct tm tm;

	if (!buf || sz < SPTIME_STRLEN)
		return EINVAL;

	if (!gmtime_r(&secs, &tm))
		return EOVERFLOW;

	if (re_snprintf(buf, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			tm.tm_hour, tm.tm_min, tm.tm_sec,
			(unsigned)(unix_ms % 1000)) < 0)
		return ENOMEM;

	return 0;
}
