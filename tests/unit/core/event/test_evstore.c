/**
 * @file test_evstore.c  The event log read by others: evstore_each(); and
 *                       written when the disk is full: events wait in
 *                       memory, in order, bounded, and are written when
 *                       it works again
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


static bool first_handler(const struct evbus_event *ev, void *arg)
{
	uint64_t *seqp = arg;

	*seqp = ev->seq;

	return true;
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


/*
 * A full disk, played by PRAGMA max_page_count: a write that needs a new
 * page of the file fails with SQLITE_FULL, as on a full file system
 */

struct loop {
	struct evstore *store;
	struct tmr tmr;
	unsigned left;         /* polls before giving up (20 ms each)   */
	bool until_written;    /* stop once nothing waits; else at 0   */
};


static void loop_handler(void *arg)
{
	struct loop *l = arg;
	struct evstore_status st;

	evstore_status(l->store, &st);
	if ((l->until_written && !st.pending) || !l->left--) {
		re_cancel();
		return;
	}

	tmr_start(&l->tmr, 20, loop_handler, l);
}


/* Run the loop for polls * 20 ms, or until nothing waits */
static void run_loop(struct evstore *store, unsigned polls,
		     bool until_written)
{
	struct loop l;

	memset(&l, 0, sizeof(l));
	l.store = store;
	l.left = polls;
	l.until_written = until_written;
	tmr_init(&l.tmr);
	tmr_start(&l.tmr, 0, loop_handler, &l);
	assert_int_equal(0, re_main(NULL));
	tmr_cancel(&l.tmr);
}


static void disk_full(struct evstore *store, bool full)
{
	/* cannot shrink the file: 1 makes it its size now */
	assert_int_equal(0, db_exec(evstore_db(store), full
				    ? "PRAGMA max_page_count = 1"
				    : "PRAGMA max_page_count = 1000000"));
}


static void publish_padded(struct evbus *bus, size_t pad)
{
	char text[2048];

	assert_true(pad < sizeof(text));
	memset(text, 'x', pad);
	text[pad] = 0;
	(void)evbus_publish(bus, "dtmf", json_pack("{s:s}", "pad", text));
}


static void a_full_disk_keeps_events_waiting_then_writes_them(
	void **state)
{
	struct evstore *store = NULL;
	struct evbus *bus = NULL;
	struct evstore_status st;
	struct walk w;
	uint64_t written;
	unsigned i, n;
	char dir[64];
	(void)state;

	assert_int_equal(0, tmpstore_open(&store, dir, sizeof(dir)));
	assert_int_equal(0, evbus_alloc(&bus, store));
	publish(bus, "line.registered");
	disk_full(store, true);

	/* the first pages' room fills, then a write fails */
	for (n = 0; n < 100; n++) {
		publish_padded(bus, 1000);
		evstore_status(store, &st);
		if (st.pending)
			break;
	}
	assert_int_equal(1, st.pending);
	assert_int_equal(ENOSPC, st.err);
	assert_true(st.since_ms > 0);
	written = evstore_last_seq(store);
	assert_int_equal(written + 1, evbus_last_seq(bus));

	/* those after it wait behind it, even the small ones */
	for (i = 0; i < 4; i++)
		publish(bus, "dtmf");
	evstore_status(store, &st);
	assert_int_equal(5, st.pending);
	assert_int_equal(5, st.not_stored);
	assert_int_equal(0, st.lost);
	assert_int_equal(written + 5, st.last_pending);
	assert_int_equal(5, evbus_store_errors(bus));

	/* readers see what was written only */
	memset(&w, 0, sizeof(w));
	assert_int_equal(0, evstore_each(store, written - 1, 16,
					 walk_handler, &w));
	assert_int_equal(1, w.n);

	/* still full: the tries every second fail, nothing is lost */
	run_loop(store, 60, false);
	evstore_status(store, &st);
	assert_int_equal(5, st.pending);
	assert_int_equal(ENOSPC, st.err);
	assert_int_equal(written, evstore_last_seq(store));

	/* room again: written by themselves, in order, no gap */
	disk_full(store, false);
	run_loop(store, 150, true);
	evstore_status(store, &st);
	assert_int_equal(0, st.pending);
	assert_int_equal(0, st.err);
	assert_int_equal(0, st.since_ms);
	assert_int_equal(5, st.written_late);
	assert_int_equal(written + 5, evstore_last_seq(store));

	memset(&w, 0, sizeof(w));
	assert_int_equal(0, evstore_each(store, written, 16, walk_handler,
					 &w));
	assert_int_equal(5, w.n);
	for (i = 0; i < 5; i++)
		assert_int_equal(written + 1 + i, w.seqv[i]);
	assert_string_equal("dtmf", w.typev[4]);

	/* and the next one is written at once */
	publish(bus, "call.ended");
	evstore_status(store, &st);
	assert_int_equal(0, st.pending);
	assert_int_equal(written + 6, evstore_last_seq(store));

	mem_deref(bus);
	mem_deref(store);
	tmpstore_remove(dir);
}


static void what_waits_is_bounded_the_oldest_goes(void **state)
{
	enum { MORE = 1010 };
	struct evstore *store = NULL;
	struct evbus *bus = NULL;
	struct evstore_status st;
	uint64_t written, first = 0;
	unsigned i;
	char dir[64];
	(void)state;

	assert_int_equal(0, tmpstore_open(&store, dir, sizeof(dir)));
	assert_int_equal(0, evbus_alloc(&bus, store));
	publish(bus, "line.registered");
	disk_full(store, true);

	do {
		publish_padded(bus, 1000);
		evstore_status(store, &st);
	} while (!st.pending);
	written = evstore_last_seq(store);

	for (i = 1; i < MORE; i++)
		publish(bus, "dtmf");

	/* the newest 1000 wait; the oldest 10 are lost for good */
	evstore_status(store, &st);
	assert_int_equal(1000, st.pending);
	assert_int_equal(MORE - 1000, st.lost);
	assert_int_equal(MORE, st.not_stored);

	disk_full(store, false);
	run_loop(store, 150, true);
	evstore_status(store, &st);
	assert_int_equal(0, st.pending);
	assert_int_equal(1000, st.written_late);

	/* the log has a gap where the lost ones were, then goes on */
	assert_int_equal(0, evstore_each(store, written, 1, first_handler,
					 &first));
	assert_int_equal(written + 1 + (MORE - 1000), first);
	assert_int_equal(written + MORE, evstore_last_seq(store));

	mem_deref(bus);
	mem_deref(store);
	tmpstore_remove(dir);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_walks_after_in_order_up_to_max),
		cmocka_unit_test(each_refuses_a_walk_inside_a_walk),
		cmocka_unit_test(
			a_full_disk_keeps_events_waiting_then_writes_them),
		cmocka_unit_test(what_waits_is_bounded_the_oldest_goes),
	};

	return cmocka_run_group_tests(tests, unit_libre_setup,
				      unit_libre_teardown);
}
