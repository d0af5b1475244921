/**
 * @file test_ratelim.c  Rate limits: decoding, buckets per source, the
 *                       strangers' shared bucket, trust, the bounded table
 */

#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"


static struct sa addr(const char *ip, uint16_t port)
{
	struct sa sa;

	assert_int_equal(0, sa_set_str(&sa, ip, port));

	return sa;
}


/* How many of n datagrams at one moment pass */
static unsigned burst(struct ratelim *rl, const struct sa *src, bool trusted,
		      uint64_t now, unsigned n)
{
	unsigned passed = 0;

	while (n--)
		passed += ratelim_take(rl, src, trusted, now);

	return passed;
}


static void test_rate_decode(void **state)
{
	static const char *const badv[] = {
		"", "20", "20/", "/40", "0/10", "20/10", "a/b", "20/40/60",
		"-1/10", "20 /40", "20/40 ", "12345678/99999999", "on",
	};
	struct rate r;
	struct pl pl;
	size_t i;
	(void)state;

	pl_set_str(&pl, "20/50");
	assert_int_equal(0, rate_decode(&r, &pl));
	assert_int_equal(20, r.rate);
	assert_int_equal(50, r.burst);

	pl_set_str(&pl, "5/5");
	assert_int_equal(0, rate_decode(&r, &pl));
	assert_int_equal(5, r.rate);
	assert_int_equal(5, r.burst);

	pl_set_str(&pl, "OFF");
	assert_int_equal(0, rate_decode(&r, &pl));
	assert_int_equal(0, r.rate);

	for (i = 0; i < ARRAY_SIZE(badv); i++) {
		pl_set_str(&pl, badv[i]);
		if (rate_decode(&r, &pl) != EINVAL)
			fail_msg("decoded '%s'", badv[i]);
	}
}


static void test_ratelim_bucket(void **state)
{
	struct rate r = {20, 50};
	struct ratelim *rl = NULL;
	struct sa a = addr("192.168.1.50", 5060);
	struct sa a2 = addr("192.168.1.50", 40000);
	(void)state;

	assert_int_equal(0, ratelim_alloc(&rl, &r, 16));

	/* the burst, then nothing at the same moment */
	assert_int_equal(50, burst(rl, &a, false, 1000, 100));

	/* the source port does not make another source */
	assert_int_equal(0, burst(rl, &a2, false, 1000, 10));

	/* 20 per second: 1 every 50 ms, 10 in half a second */
	assert_int_equal(0, burst(rl, &a, false, 1049, 5));
	assert_int_equal(1, burst(rl, &a, false, 1050, 5));
	assert_int_equal(10, burst(rl, &a, false, 1550, 100));

	/* after a long pause: the burst again, never more */
	assert_int_equal(50, burst(rl, &a, false, 100000, 100));

	/* a clock that goes back does not lock a source out */
	assert_int_equal(0, burst(rl, &a, false, 5000, 10));
	assert_int_equal(1, burst(rl, &a, false, 5050, 10));

	assert_int_equal(1, ratelim_count(rl));

	mem_deref(rl);
}


static void test_ratelim_shared(void **state)
{
	struct rate r = {10, 20};
	struct ratelim *rl = NULL;
	unsigned passed = 0, i;
	(void)state;

	assert_int_equal(0, ratelim_alloc(&rl, &r, 64));

	/* strangers together get three bursts at once, whatever their
	   number */
	for (i = 0; i < 40; i++) {
		char ip[32];
		struct sa a;

		re_snprintf(ip, sizeof(ip), "10.0.0.%u", i + 1);
		a = addr(ip, 5060);
		passed += burst(rl, &a, false, 0, 20);
	}
	assert_int_equal(60, passed);

	mem_deref(rl);
}


static void test_ratelim_trusted(void **state)
{
	struct rate r = {10, 20};
	struct ratelim *rl = NULL;
	struct sa phone = addr("192.168.1.20", 5060);
	struct sa other = addr("192.168.1.66", 5060);
	struct sa late = addr("10.0.0.99", 5060);
	unsigned i;
	(void)state;

	assert_int_equal(0, ratelim_alloc(&rl, &r, 64));

	/* strangers use up the shared bucket ... */
	assert_int_equal(20, burst(rl, &other, false, 0, 1000));
	for (i = 0; i < 2; i++) {
		char ip[32];
		struct sa a;

		re_snprintf(ip, sizeof(ip), "10.0.0.%u", i + 1);
		a = addr(ip, 5060);
		assert_int_equal(20, burst(rl, &a, false, 0, 1000));
	}
	assert_int_equal(0, burst(rl, &late, false, 0, 1));

	/* ... a phone still has ten times a stranger's burst and rate */
	assert_int_equal(200, burst(rl, &phone, true, 1000, 1000));
	assert_int_equal(100, burst(rl, &phone, true, 2000, 1000));

	/* trust gone: its bucket is cut to a stranger's */
	assert_int_equal(0, burst(rl, &phone, false, 2000, 10));

	/* a stranger that becomes trusted (it registered) gets a full
	   trusted bucket at once */
	assert_int_equal(20, burst(rl, &other, false, 3000, 1000));
	assert_int_equal(200, burst(rl, &other, true, 3000, 1000));

	mem_deref(rl);
}


static void test_ratelim_table(void **state)
{
	struct rate r = {1, 2};
	struct ratelim *rl = NULL;
	struct sa a = addr("10.0.0.1", 5060), b = addr("10.0.0.2", 5060);
	struct sa c = addr("10.0.0.3", 5060);
	(void)state;

	assert_int_equal(0, ratelim_alloc(&rl, &r, 2));

	assert_int_equal(2, burst(rl, &a, false, 0, 5));
	assert_int_equal(2, burst(rl, &b, false, 0, 5));
	assert_int_equal(0, burst(rl, &a, false, 0, 5));  /* a: recent */
	assert_int_equal(2, ratelim_count(rl));

	/* a third source takes b's place (used longest ago), not a's */
	assert_int_equal(2, burst(rl, &c, false, 0, 5));
	assert_int_equal(2, ratelim_count(rl));
	assert_int_equal(0, burst(rl, &a, false, 0, 5));

	/* b comes back as new (a second later, for the shared bucket) */
	assert_int_equal(2, burst(rl, &b, false, 1000, 5));
	assert_int_equal(2, ratelim_count(rl));

	mem_deref(rl);
}


static void test_ratelim_args(void **state)
{
	struct rate r = {10, 20}, off = {0, 0}, low = {10, 5};
	struct ratelim *rl = NULL;
	struct sa a = addr("10.0.0.1", 5060);
	(void)state;

	assert_int_equal(EINVAL, ratelim_alloc(NULL, &r, 4));
	assert_int_equal(EINVAL, ratelim_alloc(&rl, NULL, 4));
	assert_int_equal(EINVAL, ratelim_alloc(&rl, &off, 4));
	assert_int_equal(EINVAL, ratelim_alloc(&rl, &low, 4));
	assert_int_equal(EINVAL, ratelim_alloc(&rl, &r, 0));
	assert_null(rl);

	assert_false(ratelim_take(NULL, &a, false, 0));
	assert_int_equal(0, ratelim_count(NULL));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_decode),
		cmocka_unit_test(test_ratelim_bucket),
		cmocka_unit_test(test_ratelim_shared),
		cmocka_unit_test(test_ratelim_trusted),
		cmocka_unit_test(test_ratelim_table),
		cmocka_unit_test(test_ratelim_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
