/**
 * @file test_retain.c  How far an endpoint may fall behind: the retention
 *                      decision and its config
 */

#include "unit.h"
#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	SEC = 1000,
	DAY = 86400 * SEC,
};

static const uint64_t now = 1795682067000ULL;


static void beyond_by_count(void **state)
{
	const struct whretain r = {3 * DAY, 100};
	(void)state;

	/* 100 behind the newest is one too many: 100 events are kept */
	assert_false(whretain_beyond(&r, 1000, now, 1000, now));
	assert_false(whretain_beyond(&r, 901, now, 1000, now));
	assert_true(whretain_beyond(&r, 900, now, 1000, now));
	assert_true(whretain_beyond(&r, 1, now, 1000, now));

	/* fewer events than the bound: nothing goes by count */
	assert_false(whretain_beyond(&r, 1, now, 100, now));
	assert_true(whretain_beyond(&r, 1, now, 101, now));

	/* a seq after the newest (read before the newest was known) */
	assert_false(whretain_beyond(&r, 1001, now, 1000, now));
}


static void beyond_by_age(void **state)
{
	const struct whretain r = {3 * DAY, 100000};
	(void)state;

	assert_false(whretain_beyond(&r, 5, now, 10, now));
	assert_false(whretain_beyond(&r, 5, now - 3 * DAY, 10, now));
	assert_true(whretain_beyond(&r, 5, now - 3 * DAY - 1, 10, now));
	assert_true(whretain_beyond(&r, 5, 0, 10, now));

	/* an event stamped after now (the clock went back) is young */
	assert_false(whretain_beyond(&r, 5, now + DAY, 10, now));
}


static void either_bound_gives_up(void **state)
{
	const struct whretain r = {10 * SEC, 5};
	(void)state;

	assert_true(whretain_beyond(&r, 1, now, 6, now));
	assert_true(whretain_beyond(&r, 6, now - 11 * SEC, 6, now));
	assert_false(whretain_beyond(&r, 2, now - 10 * SEC, 6, now));
	assert_false(whretain_beyond(NULL, 1, 0, 1000000, now));
}


static int cfg_read(const char *text, struct whretain *r)
{
	struct conf *conf = NULL;
	int err;

	assert_int_equal(0, conf_alloc_buf(&conf, (const uint8_t *)text,
					   strlen(text)));
	err = whretain_cfg_read(r, conf);
	mem_deref(conf);

	return err;
}


static void config_defaults_and_values(void **state)
{
	struct whretain r;
	(void)state;

	assert_int_equal(0, cfg_read("# nothing of ours\n", &r));
	assert_int_equal(259200ULL * SEC, r.give_up_ms);
	assert_int_equal(100000, r.backlog_max);

	memset(&r, 0, sizeof(r));
	assert_int_equal(0, whretain_cfg_read(&r, NULL));
	assert_int_equal(259200ULL * SEC, r.give_up_ms);
	assert_int_equal(100000, r.backlog_max);

	assert_int_equal(0, cfg_read("httpctl_webhook_give_up 3\n"
				     "httpctl_webhook_backlog_max 7\n", &r));
	assert_int_equal(3 * SEC, r.give_up_ms);
	assert_int_equal(7, r.backlog_max);

	/* zero, or not a number: the service does not start */
	assert_int_equal(EINVAL, cfg_read("httpctl_webhook_give_up 0\n",
					  &r));
	assert_int_equal(EINVAL, cfg_read("httpctl_webhook_give_up 3d\n",
					  &r));
	assert_int_equal(EINVAL, cfg_read("httpctl_webhook_backlog_max"
					  " none\n", &r));
}


static void the_pass_runs_often_enough(void **state)
{
	const struct whretain quick = {3 * SEC, 10};
	const struct whretain tiny = {1, 10};
	const struct whretain slow = {3 * DAY, 10};
	(void)state;

	assert_int_equal(3 * SEC, whretain_interval_ms(&quick));
	assert_int_equal(1 * SEC, whretain_interval_ms(&tiny));
	assert_int_equal(60 * SEC, whretain_interval_ms(&slow));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(beyond_by_count),
		cmocka_unit_test(beyond_by_age),
		cmocka_unit_test(either_bound_gives_up),
		cmocka_unit_test(config_defaults_and_values),
		cmocka_unit_test(the_pass_runs_often_enough),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
