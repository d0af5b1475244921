/**
 * @file retry.c  When to try a webhook delivery again
 *
 * Eight attempts in all: the first at once, then after 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h and 10 h, each wait spread by +-20 % so that
 * endpoints which failed together do not all come back together. A
 * Retry-After from the receiver that asks for longer than that wait is
 * honoured, up to 24 h.
 *
 * Pure functions: the caller passes the random value and the time, so
 * the schedule can be tested exactly.
 */

#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	SEC = 1000,
	MIN = 60 * SEC,
	HOUR = 60 * MIN,
};

/* The wait after the n-th failed attempt is stepv[n - 1] */
static const uint32_t stepv[WHRETRY_ATTEMPTS - 1] = {
	5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR
};


/**
 * The wait before the next attempt, without jitter
 *
 * @param attempts  Attempts made so far, all failed (1 or more)
 *
 * @return the wait in ms, or 0 when no attempt is left
 */
uint64_t whretry_step_ms(unsigned attempts)
{
	if (attempts < 1 || attempts >= WHRETRY_ATTEMPTS)
		return 0;

	return stepv[attempts - 1];
}


/**
 * Spread a wait by +-20 %
 *
 * @param ms   The wait
 * @param rnd  A uniformly random 32-bit value: 0 gives -20 %,
 *             2^31 the wait itself, UINT32_MAX just under +20 %
 *
 * @return the spread wait in ms
 */
uint64_t whretry_jitter(uint64_t ms, uint32_t rnd)
{
	/* factor in millionths, 800000 to 1199999 */
	uint64_t ppm = 800000 + (((uint64_t)rnd * 400000) >> 32);

	if (ms > UINT64_MAX / 1200000)
		return ms;

	return ms * ppm / 1000000;
}


static bool digits(const struct pl *pl)
{
	size_t i;

	if (!pl->l)
		return false;

	for (i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return false;
	}

	return true;
}


/* Days since 1970-01-01 of a proleptic Gregorian date */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}


static int month_decode(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int i;

	for (i = 0; i < 12; i++) {
		if (0 == strncmp(s, months + 3 * i, 3))
			return i + 1;
	}

	return 0;
}


/*
 * An HTTP-date in any of the three forms RFC 9110 makes a recipient
 * accept:
 *   Sun, 06 Nov 1994 08:49:37 GMT     IMF-fixdate
 *   Sunday, 06-Nov-94 08:49:37 GMT    RFC 850 (two-digit year)
 *   Sun Nov  6 08:49:37 1994          asctime
 */
static int http_date_decode(const char *s, uint64_t *unix_msp)
{
	char mon[4] = "";
	int d = 0, y = 0, hh = 0, mm = 0, ss = 0, n = 0, m;
	int64_t t;

	if (sscanf(s, "%*3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n",
		   &d, mon, &y, &hh, &mm, &ss, &n) == 6 && !s[n]) {
		/* IMF-fixdate */
	}
	else if (n = 0, sscanf(s, "%*[A-Za-z], %2d-%3[A-Za-z]-%2d"
			       " %2d:%2d:%2d GMT%n", &d, mon, &y, &hh, &mm,
			       &ss, &n) == 6 && !s[n]) {
		/* a year that would be over 50 years ahead is in the past */
		y += y < 70 ? 2000 : 1900;
	}
	else if (n = 0, sscanf(s, "%*3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d"
			       " %4d%n", mon, &d, &hh, &mm, &ss, &y, &n) == 6
		 && !s[n]) {
		/* asctime */
	}
	else {
		return EBADMSG;
	}

	m = month_decode(mon);
	if (!m || d < 1 || d > 31 || y < 1970 || hh > 23 || mm > 59 ||
	    ss > 60)
		return EBADMSG;

	t = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 +
		hh * 3600 + mm * 60 + ss;
	*unix_msp = (uint64_t)t * 1000;

	return 0;
}


/**
 * Decode a Retry-After value: delay-seconds or an HTTP-date
 *
 * @param val     The header value
 * @param now_ms  Unix ms now (for a date)
 * @param waitp   Returned wait in ms (0 for a date in the past); longer
 *                waits are returned as WHRETRY_CAP_MS
 *
 * @return 0 if success, EBADMSG if the value is neither form
 */
int whretry_after_decode(const struct pl *val, uint64_t now_ms,
			 uint64_t *waitp)
{
	char buf[64];
	struct pl v;
	uint64_t at;
	int err;

	if (!val || !waitp)
		return EINVAL;

	v = *val;
	while (v.l && (v.p[0] == ' ' || v.p[0] == '\t')) {
		++v.p;
		--v.l;
	}
	while (v.l && (v.p[v.l - 1] == ' ' || v.p[v.l - 1] == '\t'))
		--v.l;

	if (digits(&v)) {
		/* more than ten digits is more than 300 years */
		uint64_t s = v.l > 10 ? UINT64_MAX : pl_u64(&v);

		*waitp = s > WHRETRY_CAP_MS / 1000 ? WHRETRY_CAP_MS : s * 1000;
		return 0;
	}

	if (v.l >= sizeof(buf))
		return EBADMSG;

	(void)pl_strcpy(&v, buf, sizeof(buf));
	err = http_date_decode(buf, &at);
	if (err)
		return err;

	*waitp = at > now_ms ? min(at - now_ms, (uint64_t)WHRETRY_CAP_MS) : 0;

	return 0;
}


/**
 * The wait before the next attempt after a failed one
 *
 * @param waitp        Returned wait in ms
 * @param attempts     Attempts made so far, all failed
 * @param rnd          A uniformly random 32-bit value (the jitter)
 * @param retry_after  The receiver's Retry-After in ms (0: none)
 *
 * @return true if an attempt is left, false if the delivery has failed
 */
bool whretry_next(uint64_t *waitp, unsigned attempts, uint32_t rnd,
		  uint64_t retry_after)
{
	uint64_t step = whretry_step_ms(attempts), wait;

	if (!waitp || !step)
		return false;

	wait = whretry_jitter(step, rnd);
	if (retry_after > wait)
		wait = min(retry_after, (uint64_t)WHRETRY_CAP_MS);

	*waitp = wait;

	return true;
}
