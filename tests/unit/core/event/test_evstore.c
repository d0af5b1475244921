/**
 * @file test_evstore.c  The event log read by others: evstore_each()
 */

#include "unit.h"
#include "sipphone.h"
#include "tmpstore.h"


struct walk {
	uint64_t seqv[16];
	char typev[16][32];
	uint64_t timev[16];
	size_t n;
	size_t stop_at;        /* stop after this many (0: never)      */
	struct evstore *store; /* to try a walk from inside one        */
	int inner_err;
};


static bool walk_handler(const struct evbus_event *ev, void *arg)
{
	struct walk *w = arg;
	json_t *env;

	assert_true(w->n < 16);
	w->seqv[w->n] = ev->seq;
	str_ncpy(w->typev[w->n], ev->type, sizeof(w->typev[0]));
	w->timev[w->n] = ev->time_ms;

	/* the envelope is the stored text, and says the same */
	env = json_loads(ev->json, 0, NULL);
	assert_non_null(env);
	assert_string_equal(ev->id, json_string_value(json_object_get(env,
								      "id")));
	assert_int_equal(ev->seq, json_integer_value(json_object_get(env,
								     "seq")));
	json_decref(env);

	if (w->store)
		w->inner_err = evstore_each(w->store, 0, 1, walk_handler, w);

	++w->n;

	return w->stop_at && w->n >= w->stop_at;
}


static void publish(struct evbus *bus, const char *type)
{
	assert_int_equal(0, evbus_publish(bus, type, json_object()));
}


static void each_walks_after_in_order_up_to_max(void **state)
{
	struct evstore *store = NULL;
	struct evbus *bus = NULL;
	uint64_t t0 = sptime_now_ms();
	struct walk w;
	char dir[64];
	(void)state;

	assert_int_equal(0, tmpstore_open(&store, dir, sizeof(dir)));
	assert_int_equal(0, evbus_alloc(&bus, store));
	publish(bus, "line.registered");
	publish(bus, "call.incoming");
	publish(bus, "dtmf");
	publish(bus, "call.ended");

	/* all of them, oldest first, with their fields */
	memset(&w, 0, sizeof(w));
	assert_int_equal(0, evstore_each(store, 0, 100, walk_handler, &w));
	assert_int_equal(4, w.n);
	assert_int_equal(1, w.seqv[0]);
	assert_int_equal(4, w.seqv[3]);
	assert_string_equal("line.registered", w.typev[0]);
	assert_string_equal("call.ended", w.typev[3]);
	assert_true(w.timev[0] >= t0 && w.timev[0] <= sptime_now_ms());

	/* after a seq, at most max */
	memset(&w, 0, sizeof(w));
	assert_int_equal(0, evstore_each(store, 1, 2, walk_handler, &w));
	assert_int_equal(2, w.n);
	assert_int_equal(2, w.seqv[0]);
	assert_int_equal(3, w.seqv[1]);
	assert_string_equal("dtmf", w.typev[1]);

	/* nothing newer, or max 0: no call */
	memset(&w, 0, sizeof(w));
	assert_int_equal(0, evstore_each(store, 4, 100, walk_handler, &w));
	assert_int_equal(0, evstore_each(store, 0, 0, walk_handler, &w));
	assert_int_equal(0, w.n);

	/* the handler stops the walk */
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	assert_int_equal(0, evstore_each(store, 0, 100, walk_handler, &w));
	assert_int_equal(2, w.n);

	/* and the walk after a stop starts afresh */
	memset(&w, 0, sizeof(w));
	assert_int_equal(0, evstore_each(store, 2, 100, walk_handler, &w));
	assert_int_equal(2, w.n);
	assert_int_equal(3, w.seqv[0]);

	assert_int_equal(EINVAL, evstore_each(NULL, 0, 1, walk_handler, &w));
	assert_int_equal(EINVAL, evstore_each(store, 0, 1, NULL, &w));

	mem_deref(bus);
	mem_deref(store);
	tmpstore_remove(dir);
}


static void each_refuses_a_walk_inside_a_walk(void **state)
{
	struct evstore *store = NULL;
	struct evbus *bus = NULL;
	struct walk w;
	char dir[64];
	(void)state;

	assert_int_equal(0, tmpstore_open(&store, dir, sizeof(dir)));
	assert_int_equal(0, evbus_alloc(&bus, store));
	publish(bus, "dtmf");
	publish(bus, "dtmf");

	memset(&w, 0, sizeof(w));
	w.store = store;
	assert_int_equal(0, evstore_each(store, 0, 100, walk_handler, &w));
	assert_int_equal(2, w.n);
	assert_int_equal(EBUSY, w.inner_err);

	/* and works again once the walk is over */
	w.store = NULL;
	w.n = 0;
	assert_int_equal(0, evstore_each(store, 0, 100, walk_handler, &w));
	assert_int_equal(2, w.n);

	mem_deref(bus);
	mem_deref(store);
	tmpstore_remove(dir);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_walks_after_in_order_up_to_max),
		cmocka_unit_test(each_refuses_a_walk_inside_a_walk),
	};

	return cmocka_run_group_tests(tests, unit_libre_setup,
				      unit_libre_teardown);
}
