/**
 * @file test_evbus.c  Event bus and store: numbering, envelope,
 *                     subscribers, the durable log
 */

#include "unit.h"
#include <stdio.h>
#include <unistd.h>
#include "sipphone.h"
#include "tmpstore.h"


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
	struct evstore *store = NULL;
	struct evbus *bus = NULL;
	struct evbus_sub *sub = NULL;
	struct seen seen;
	char dir[64];
	json_t *env;
	json_error_t jerr;
	size_t i;
	(void)state;

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(0, tmpstore_open(&store, dir, sizeof(dir)));
	assert_int_equal(0, evbus_alloc(&bus, store));
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

	assert_int_equal(EINVAL, evbus_publish(bus, NULL, json_object()));
	assert_int_equal(3, evbus_last_seq(bus));

	for (i = 0; i < seen.n; i++)
		mem_deref(seen.jsonv[i]);
	mem_deref(bus);
	mem_deref(store);
	tmpstore_remove(dir);
}


static void list(struct evbus *bus, uint64_t after, size_t limit,
		 json_t **arrp, uint64_t *lastp)
{
	struct mbuf *mb = mbuf_alloc(256);
	char *s = NULL;

	mbuf_write_str(mb, "[");
	assert_int_equal(0, evbus_list(bus, after, limit, mb, lastp));
	mbuf_write_str(mb, "]");
	mb->pos = 0;
	mbuf_strdup(mb, &s, mb->end);
	*arrp = json_loads(s, 0, NULL);
	assert_non_null(*arrp);
	mem_deref(s);
	mem_deref(mb);
}


static void log_serves_after_and_limit_and_survives_reopen(void **state)
{
	struct evstore *store = NULL;
	struct evbus *bus = NULL;
	char dir[64], path[96];
	uint64_t last = 0;
	json_t *arr;
	int i;
	(void)state;

	assert_int_equal(0, tmpstore_open(&store, dir, sizeof(dir)));
	assert_int_equal(0, evbus_alloc(&bus, store));
	for (i = 0; i < 5; i++)
		assert_int_equal(0, evbus_publish(bus, "dtmf",
					json_pack("{s:i}", "n", i)));

	list(bus, 0, 100, &arr, &last);
	assert_int_equal(5, json_array_size(arr));
	assert_int_equal(1, json_integer_value(json_object_get(
				json_array_get(arr, 0), "seq")));
	assert_int_equal(5, last);
	json_decref(arr);

	list(bus, 3, 1, &arr, &last);
	assert_int_equal(1, json_array_size(arr));
	assert_int_equal(4, last);
	json_decref(arr);

	/* nothing newer: last stays at after */
	list(bus, 9, 10, &arr, &last);
	assert_int_equal(0, json_array_size(arr));
	assert_int_equal(9, last);
	json_decref(arr);

	/* closed and opened again: the log is there, seq goes on */
	bus = mem_deref(bus);
	store = mem_deref(store);
	re_snprintf(path, sizeof(path), "%s/events.db", dir);
	assert_int_equal(0, evstore_open(&store, path, 1000, 86400));
	assert_int_equal(5, evstore_last_seq(store));
	assert_int_equal(0, evbus_alloc(&bus, store));
	assert_int_equal(0, evbus_publish(bus, "dtmf", json_object()));
	assert_int_equal(6, evbus_last_seq(bus));
	list(bus, 4, 100, &arr, &last);
	assert_int_equal(2, json_array_size(arr));
	assert_int_equal(6, last);
	json_decref(arr);

	mem_deref(bus);
	mem_deref(store);
	tmpstore_remove(dir);
}


static void corrupt_store_is_moved_aside(void **state)
{
	struct evstore *store = NULL;
	char dir[] = "/tmp/sipphone-unit-XXXXXX", path[96], cmd[160];
	FILE *f;
	(void)state;

	assert_non_null(mkdtemp(dir));
	re_snprintf(path, sizeof(path), "%s/events.db", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not an SQLite database, not even close....", f);
	fclose(f);

	assert_int_equal(0, evstore_open(&store, path, 1000, 86400));
	assert_int_equal(0, evstore_last_seq(store));
	mem_deref(store);

	/* the bad file is kept beside the fresh one */
	re_snprintf(cmd, sizeof(cmd), "ls %s/events.db.corrupt-* >/dev/null"
		    " 2>&1 && rm -rf %s", dir, dir);
	assert_int_equal(0, system(cmd));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(publish_numbers_and_delivers_in_order),
		cmocka_unit_test(log_serves_after_and_limit_and_survives_reopen),
		cmocka_unit_test(corrupt_store_is_moved_aside),
	};

	return cmocka_run_group_tests(tests, unit_libre_setup,
				      unit_libre_teardown);
}
