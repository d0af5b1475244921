/**
 * @file test_evbus.c  Event bus: numbering, envelope, subscribers, log
 */

#include "unit.h"
#include "sipphone.h"


struct seen {
	uint64_t seqv[8];
	char *jsonv[8];
	size_t n;
};


static void seen_handler(const struct evbus_event *ev, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->seqv[s->n] = ev->seq;
		str_dup(&s->jsonv[s->n], ev->json);
		s->n++;
	}
}


static void publish_numbers_and_delivers_in_order(void **state)
{
	struct evbus *bus = NULL;
	struct evbus_sub *sub = NULL;
	struct seen seen;
	json_t *env;
	json_error_t jerr;
	size_t i;
	(void)state;

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(0, evbus_alloc(&bus, 100));
	assert_int_equal(0, evbus_subscribe(&sub, bus, seen_handler, &seen));

	assert_int_equal(0, evbus_publish(bus, "line.registered",
				json_pack("{s:s}", "line", "100")));
	assert_int_equal(0, evbus_publish(bus, "call.incoming",
				json_pack("{s:s, s:s}", "line", "100",
					  "dialed", "1234")));

	assert_int_equal(2, seen.n);
	assert_int_equal(1, seen.seqv[0]);
	assert_int_equal(2, seen.seqv[1]);
	assert_int_equal(2, evbus_last_seq(bus));
	assert_int_equal(2, evbus_published(bus));

	env = json_loads(seen.jsonv[1], 0, &jerr);
	assert_non_null(env);
	assert_string_equal("call.incoming",
		json_string_value(json_object_get(env, "type")));
	assert_int_equal(2, json_integer_value(json_object_get(env, "seq")));
	assert_int_equal(0, strncmp("evt_", json_string_value(
				json_object_get(env, "id")), 4));
	assert_string_equal("1234", json_string_value(json_object_get(
				json_object_get(env, "data"), "dialed")));
	/* RFC 3339 UTC with milliseconds */
	assert_int_equal(24, strlen(json_string_value(
				json_object_get(env, "timestamp"))));
	json_decref(env);

	/* unsubscribed: no more deliveries */
	sub = mem_deref(sub);
	assert_int_equal(0, evbus_publish(bus, "dtmf", json_object()));
	assert_int_equal(2, seen.n);

	for (i = 0; i < seen.n; i++)
		mem_deref(seen.jsonv[i]);
	mem_deref(bus);
}


static void list_serves_after_and_limit(void **state)
{
	struct evbus *bus = NULL;
	struct mbuf *mb = mbuf_alloc(256);
	json_t *arr;
	char *s = NULL;
	uint64_t last = 0;
	int i;
	(void)state;

	assert_int_equal(0, evbus_alloc(&bus, 3));
	for (i = 0; i < 5; i++)
		assert_int_equal(0, evbus_publish(bus, "dtmf",
					json_pack("{s:i}", "n", i)));

	/* only the newest 3 are kept */
	mbuf_write_str(mb, "[");
	assert_int_equal(0, evbus_list(bus, 0, 100, mb, &last));
	mbuf_write_str(mb, "]");
	mb->pos = 0;
	mbuf_strdup(mb, &s, mb->end);
	arr = json_loads(s, 0, NULL);
	assert_int_equal(3, json_array_size(arr));
	assert_int_equal(3, json_integer_value(json_object_get(
				json_array_get(arr, 0), "seq")));
	assert_int_equal(5, last);
	json_decref(arr);
	s = mem_deref(s);

	/* after + limit */
	mbuf_reset(mb);
	assert_int_equal(0, evbus_list(bus, 3, 1, mb, &last));
	assert_int_equal(4, last);

	/* nothing newer: last stays at after */
	mbuf_reset(mb);
	assert_int_equal(0, evbus_list(bus, 9, 10, mb, &last));
	assert_int_equal(9, last);
	assert_int_equal(0, mb->end);

	assert_int_equal(EINVAL, evbus_publish(bus, NULL, json_object()));
	assert_int_equal(5, evbus_last_seq(bus));

	mem_deref(mb);
	mem_deref(bus);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(publish_numbers_and_delivers_in_order),
		cmocka_unit_test(list_serves_after_and_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
