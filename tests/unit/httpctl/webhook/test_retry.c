/**
 * @file test_retry.c  The webhook retry schedule, jitter, Retry-After
 */

#include "unit.h"
#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	SEC = 1000,
	MIN = 60 * SEC,
	HOUR = 60 * MIN,
};

/* the random value that spreads by 0 % */
static const uint32_t rnd_mid = 0x80000000u;

/* 1994-11-06 08:49:37 UTC, the date of RFC 9110's examples */
static const uint64_t rfc_date_ms = 784111777000ULL;


static void schedule_is_eight_attempts(void **state)
{
	static const uint64_t want[] = {
		5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR,
		10 * HOUR
	};
	uint64_t wait = 0;
	unsigned n;
	(void)state;

	for (n = 1; n < WHRETRY_ATTEMPTS; n++) {
		assert_int_equal(want[n - 1], whretry_step_ms(n));
		assert_true(whretry_next(&wait, n, rnd_mid, 0));
		assert_int_equal(want[n - 1], wait);
	}

	/* after the eighth attempt the delivery has failed */
	assert_int_equal(8, WHRETRY_ATTEMPTS);
	assert_int_equal(0, whretry_step_ms(WHRETRY_ATTEMPTS));
	assert_false(whretry_next(&wait, WHRETRY_ATTEMPTS, rnd_mid, 0));
	assert_false(whretry_next(&wait, 0, rnd_mid, 0));
}


static void jitter_stays_within_twenty_percent(void **state)
{
	static const uint32_t rndv[] = {
		0, 1, 12345, 0x3fffffff, rnd_mid, 0xc0000000u, UINT32_MAX - 1,
		UINT32_MAX
	};
	size_t i;
	(void)state;

	assert_int_equal(4000, whretry_jitter(5000, 0));
	assert_int_equal(5000, whretry_jitter(5000, rnd_mid));
	assert_int_equal(5999, whretry_jitter(5000, UINT32_MAX));
	assert_int_equal(4500, whretry_jitter(5000, 0x40000000u));

	for (i = 0; i < ARRAY_SIZE(rndv); i++) {
		uint64_t w = whretry_jitter(10 * HOUR, rndv[i]);

		assert_true(w >= 8 * HOUR);
		assert_true(w < 12 * HOUR);
	}

	/* it grows with the random value */
	assert_true(whretry_jitter(HOUR, 1000) < whretry_jitter(HOUR,
								 3000000000u));
}


static int after(const char *s, uint64_t now, uint64_t *waitp)
{
	struct pl pl;

	pl_set_str(&pl, s);

	return whretry_after_decode(&pl, now, waitp);
}


static void retry_after_seconds(void **state)
{
	uint64_t wait = 1;
	(void)state;

	assert_int_equal(0, after("120", 0, &wait));
	assert_int_equal(120 * SEC, wait);

	assert_int_equal(0, after(" 0 ", 0, &wait));
	assert_int_equal(0, wait);

	/* capped at 24 h, however large */
	assert_int_equal(0, after("86401", 0, &wait));
	assert_int_equal(WHRETRY_CAP_MS, wait);
	assert_int_equal(0, after("99999999999999999999999", 0, &wait));
	assert_int_equal(WHRETRY_CAP_MS, wait);

	assert_int_equal(EBADMSG, after("-5", 0, &wait));
	assert_int_equal(EBADMSG, after("1.5", 0, &wait));
	assert_int_equal(EBADMSG, after("", 0, &wait));
	assert_int_equal(EBADMSG, after("soon", 0, &wait));
}


static void retry_after_http_dates(void **state)
{
	uint64_t now = rfc_date_ms - 90 * SEC, wait = 0;
	(void)state;

	assert_int_equal(0, after("Sun, 06 Nov 1994 08:49:37 GMT", now,
				  &wait));
	assert_int_equal(90 * SEC, wait);

	wait = 0;
	assert_int_equal(0, after("Sunday, 06-Nov-94 08:49:37 GMT", now,
				  &wait));
	assert_int_equal(90 * SEC, wait);

	wait = 0;
	assert_int_equal(0, after("Sun Nov  6 08:49:37 1994", now, &wait));
	assert_int_equal(90 * SEC, wait);

	/* a leap day, and a date past 2038 */
	assert_int_equal(0, after("Thu, 29 Feb 2024 00:00:00 GMT",
				  1709164800000ULL - 1000, &wait));
	assert_int_equal(1000, wait);
	assert_int_equal(0, after("Sat, 01 Jan 2050 00:00:01 GMT",
				  2524608000000ULL, &wait));
	assert_int_equal(1000, wait);

	/* in the past: no wait; far ahead: capped */
	assert_int_equal(0, after("Sun, 06 Nov 1994 08:49:37 GMT",
				  rfc_date_ms + 1, &wait));
	assert_int_equal(0, wait);
	assert_int_equal(0, after("Sun, 06 Nov 1994 08:49:37 GMT",
				  rfc_date_ms - 3 * 86400 * 1000ULL, &wait));
	assert_int_equal(WHRETRY_CAP_MS, wait);

	assert_int_equal(EBADMSG, after("Sun, 06 Nov 1994 08:49:37", now,
					&wait));
	assert_int_equal(EBADMSG, after("Sun, 06 Foo 1994 08:49:37 GMT", now,
					&wait));
	assert_int_equal(EBADMSG, after("Sun, 32 Nov 1994 08:49:37 GMT", now,
					&wait));
	assert_int_equal(EBADMSG, after("Sun, 06 Nov 1994 24:49:37 GMT", now,
					&wait));
	assert_int_equal(EBADMSG, after("Sun, 06 Nov 1994 08:49:37 GMT x",
					now, &wait));
}


static void longer_retry_after_wins(void **state)
{
	uint64_t wait = 0;
	(void)state;

	/* shorter than the step: the step */
	assert_true(whretry_next(&wait, 1, rnd_mid, 2 * SEC));
	assert_int_equal(5 * SEC, wait);

	/* longer: Retry-After */
	assert_true(whretry_next(&wait, 1, rnd_mid, 60 * SEC));
	assert_int_equal(60 * SEC, wait);

	/* never beyond 24 h */
	assert_true(whretry_next(&wait, 7, rnd_mid, 48 * HOUR));
	assert_int_equal(WHRETRY_CAP_MS, wait);

	/* the last attempt stays the last */
	assert_false(whretry_next(&wait, WHRETRY_ATTEMPTS, rnd_mid, 60 * SEC));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schedule_is_eight_attempts),
		cmocka_unit_test(jitter_stays_within_twenty_percent),
		cmocka_unit_test(retry_after_seconds),
		cmocka_unit_test(retry_after_http_dates),
		cmocka_unit_test(longer_retry_after_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
