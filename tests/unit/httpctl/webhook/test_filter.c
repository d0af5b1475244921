/**
 * @file test_filter.c  Webhook filters: which are valid, what they match
 */

#include "unit.h"
#include "sipphone.h"
#include "webhook/webhook.h"


static void filters_that_are_valid(void **state)
{
	static const char *const okv[] = {
		"*", "call.*", "call.ended", "dtmf", "a_b.c1", "x.y.z",
		"line.registered", "webhook.*", "9.z_",
	};
	char longest[129];
	size_t i;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(okv); i++)
		assert_true(webhook_filter_valid(okv[i]));

	/* 128 characters at most */
	memset(longest, 'a', sizeof(longest) - 1);
	longest[128] = '\0';
	assert_true(webhook_filter_valid(longest));
}


static void filters_that_are_not(void **state)
{
	static const char *const badv[] = {
		"", "**", ".*", "call*", "*.call", "call.**", "call.*.x",
		".call", "call.", "call..ended", "Call.ended", "call-ended",
		"call ended", "call.ended ", "call/ended", "ca\xc3\xa9ll",
		"call.*x",
	};
	char toolong[130];
	size_t i;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(badv); i++) {
		if (webhook_filter_valid(badv[i]))
			fail_msg("\"%s\" was taken as a filter", badv[i]);
	}

	assert_false(webhook_filter_valid(NULL));

	memset(toolong, 'a', sizeof(toolong) - 1);
	toolong[129] = '\0';
	assert_false(webhook_filter_valid(toolong));
}


/* An endpoint with these filters (only its events are looked at) */
static void endpoint(struct webhook *wh, const char *filters)
{
	memset(wh, 0, sizeof(*wh));
	wh->events = json_loads(filters, 0, NULL);
	assert_non_null(wh->events);
}


static void exact_and_prefix_filters_match(void **state)
{
	struct webhook wh;
	(void)state;

	endpoint(&wh, "[\"call.*\", \"dtmf\"]");
	assert_true(webhook_matches(&wh, "call.ended"));
	assert_true(webhook_matches(&wh, "call.incoming"));
	assert_true(webhook_matches(&wh, "call.quality.x"));
	assert_true(webhook_matches(&wh, "dtmf"));

	/* a prefix is "call." with its dot; exact means exact */
	assert_false(webhook_matches(&wh, "call"));
	assert_false(webhook_matches(&wh, "callx.ended"));
	assert_false(webhook_matches(&wh, "dtmf.x"));
	assert_false(webhook_matches(&wh, "dtm"));
	assert_false(webhook_matches(&wh, "line.registered"));
	json_decref(wh.events);

	endpoint(&wh, "[\"line.registered\"]");
	assert_true(webhook_matches(&wh, "line.registered"));
	assert_false(webhook_matches(&wh, "line.unregistered"));
	json_decref(wh.events);
}


static void webhook_test_is_never_matched(void **state)
{
	struct webhook wh;
	(void)state;

	endpoint(&wh, "[\"*\"]");
	assert_true(webhook_matches(&wh, "call.ended"));
	assert_true(webhook_matches(&wh, "webhook.disabled"));
	assert_false(webhook_matches(&wh, "webhook.test"));
	json_decref(wh.events);

	endpoint(&wh, "[\"webhook.*\", \"webhook.test\"]");
	assert_true(webhook_matches(&wh, "webhook.disabled"));
	assert_false(webhook_matches(&wh, "webhook.test"));
	json_decref(wh.events);
}


static void nothing_matches_without_filters(void **state)
{
	struct webhook wh;
	(void)state;

	endpoint(&wh, "[]");
	assert_false(webhook_matches(&wh, "call.ended"));
	json_decref(wh.events);

	/* an entry that is not a string is passed over */
	endpoint(&wh, "[1, null, \"dtmf\"]");
	assert_false(webhook_matches(&wh, "call.ended"));
	assert_true(webhook_matches(&wh, "dtmf"));
	assert_false(webhook_matches(&wh, NULL));
	json_decref(wh.events);

	assert_false(webhook_matches(NULL, "dtmf"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filters_that_are_valid),
		cmocka_unit_test(filters_that_are_not),
		cmocka_unit_test(exact_and_prefix_filters_match),
		cmocka_unit_test(webhook_test_is_never_matched),
		cmocka_unit_test(nothing_matches_without_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
