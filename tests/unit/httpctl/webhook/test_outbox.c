/**
 * @file test_outbox.c  The webhook outbox on a real store: the attempts
 *                      of a delivery (the newest ten kept), and giving up
 *                      what retention lets go
 */

#include <sqlite3.h>
#include "unit.h"
#include "sipphone.h"
#include "webhook/webhook.h"
#include "tmpstore.h"


/* Stands in for base/err.c: endpoint.c reports bad requests with it, and
   these tests make only good ones */
int sp_err_set(struct sp_err *err, uint16_t status, const char *code,
	       const char *fmt, ...)
{
	(void)fmt;

	if (err) {
		err->status = status;
		err->code = code;
	}

	return EINVAL;
}


struct fixture {
	char dir[64];
	struct evstore *store;
	struct evbus *bus;
	struct sqlite3 *db;
};


static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || tmpstore_open(&f->store, f->dir, sizeof(f->dir)) ||
	    evbus_alloc(&f->bus, f->store))
		return -1;

	f->db = evstore_db(f->store);
	*state = f;

	return whoutbox_init(f->db);
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_deref(f->bus);
	mem_deref(f->store);
	tmpstore_remove(f->dir);
	free(f);

	return 0;
}


static void attempt(struct sqlite3 *db, const char *wh, uint64_t seq,
		    uint32_t n, uint16_t status, const char *error)
{
	struct whd_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.seq = seq;
	rec.event_id = seq == 5 ? "evt_five" : "evt_six";
	rec.type = "call.ended";
	rec.attempt = n;
	rec.state = error ? WHD_PENDING : WHD_DELIVERED;
	rec.status = status;
	rec.error = error;
	rec.at_ms = 1000000 + n;
	rec.duration_ms = 100 + n;

	assert_int_equal(0, db_begin(db));
	assert_int_equal(0, db_end(db, whoutbox_record(db, wh, &rec)));
}


static int rows(struct sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int n;

	assert_int_equal(0, db_prepare(db, &st, sql));
	assert_int_equal(SQLITE_ROW, sqlite3_step(st));
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);

	return n;
}


/* The record of an event in a deliveries array */
static json_t *record_of(json_t *arr, uint64_t seq)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		json_t *r = json_array_get(arr, i);

		if (json_integer_value(json_object_get(r, "seq")) ==
		    (json_int_t)seq)
			return r;
	}

	fail_msg("no record of seq %llu", (unsigned long long)seq);
	return NULL;
}


static void attempts_keep_the_newest_ten(void **state)
{
	struct fixture *f = *state;
	json_t *arr = NULL, *rec, *atts;
	uint32_t n;
	size_t i;

	for (n = 1; n <= 13; n++)
		attempt(f->db, "wh_a", 5, n, n < 13 ? 500 : 200,
			n < 13 ? "HTTP 500" : NULL);
	attempt(f->db, "wh_a", 6, 1, 0, "no answer within 15 s");
	attempt(f->db, "wh_a", 6, 2, 503, "HTTP 503");
	attempt(f->db, "wh_b", 5, 1, 200, NULL);

	/* the oldest three went in the transactions that wrote newer ones */
	assert_int_equal(13, rows(f->db, "SELECT COUNT(*) FROM attempts"));
	assert_int_equal(10, rows(f->db, "SELECT COUNT(*) FROM attempts"
				  " WHERE webhook = 'wh_a' AND seq = 5"));

	assert_int_equal(0, whoutbox_records(f->db, "wh_a", 100, &arr));
	assert_int_equal(2, json_array_size(arr));

	/* the record is the latest attempt; its history newest first */
	rec = record_of(arr, 5);
	assert_string_equal("delivered", json_string_value(
				    json_object_get(rec, "state")));
	assert_int_equal(13, json_integer_value(json_object_get(rec,
								 "attempt")));
	atts = json_object_get(rec, "attempts");
	assert_int_equal(WHD_ATTEMPTS_KEPT, json_array_size(atts));
	for (i = 0; i < json_array_size(atts); i++) {
		json_t *a = json_array_get(atts, i);

		assert_int_equal(100 + 13 - i, json_integer_value(
					 json_object_get(a, "duration_ms")));
		assert_true(json_is_string(json_object_get(a, "at")));
		assert_int_equal(i ? 500 : 200, json_integer_value(
					 json_object_get(a, "status_code")));
		if (i)
			assert_string_equal("HTTP 500", json_string_value(
					    json_object_get(a, "error")));
		else
			assert_true(json_is_null(json_object_get(a,
								"error")));
	}

	/* no answer: status_code null */
	atts = json_object_get(record_of(arr, 6), "attempts");
	assert_int_equal(2, json_array_size(atts));
	assert_int_equal(503, json_integer_value(json_object_get(
			 json_array_get(atts, 0), "status_code")));
	assert_true(json_is_null(json_object_get(json_array_get(atts, 1),
						 "status_code")));
	assert_string_equal("no answer within 15 s", json_string_value(
			    json_object_get(json_array_get(atts, 1),
					    "error")));
	json_decref(arr);

	/* an endpoint deleted takes its attempts, and only its own */
	assert_int_equal(0, db_begin(f->db));
	assert_int_equal(0, db_end(f->db, whoutbox_forget(f->db, "wh_a")));
	assert_int_equal(1, rows(f->db, "SELECT COUNT(*) FROM attempts"));
}


static void a_retry_keeps_the_trace_of_earlier_failures(void **state)
{
	struct fixture *f = *state;
	json_t *arr = NULL, *atts;

	/* failed for good after two attempts, then sent again (retry):
	   the redelivery's attempts count from 1 again */
	attempt(f->db, "wh_a", 5, 1, 500, "HTTP 500");
	attempt(f->db, "wh_a", 5, 2, 0, "could not connect: refused");
	attempt(f->db, "wh_a", 5, 1, 204, NULL);

	assert_int_equal(0, whoutbox_records(f->db, "wh_a", 100, &arr));
	atts = json_object_get(json_array_get(arr, 0), "attempts");
	assert_int_equal(3, json_array_size(atts));
	assert_int_equal(204, json_integer_value(json_object_get(
			 json_array_get(atts, 0), "status_code")));
	assert_string_equal("could not connect: refused", json_string_value(
			    json_object_get(json_array_get(atts, 1),
					    "error")));
	assert_string_equal("HTTP 500", json_string_value(json_object_get(
			    json_array_get(atts, 2), "error")));
	json_decref(arr);
}


/* Beyond: the events up to this seq */
static bool beyond_handler(const struct evbus_event *ev, void *arg)
{
	const uint64_t *upto = arg;

	return ev->seq <= *upto;
}


static struct webhook *endpoint(struct webhooks *whs, const char *filter)
{
	struct webhook *wh = NULL;
	struct sp_err e;
	json_t *args;

	args = json_pack("{s:s, s:[s]}", "url", "http://127.0.0.1:9/h",
			 "events", filter);
	assert_int_equal(0, webhooks_create(whs, args, 0, &wh, &e));
	json_decref(args);

	return wh;
}


static void drop_gives_up_owed_events_up_to_the_first_kept(void **state)
{
	static const char *const typev[] = {
		"call.incoming", "line.registered", "call.ended", "dtmf",
		"call.incoming", "call.ended",
	};
	struct fixture *f = *state;
	struct webhooks *whs = NULL;
	struct whoutbox_drop d;
	struct webhook *wh;
	json_t *arr = NULL, *rec, *atts;
	uint64_t upto = 4;
	size_t i;

	assert_int_equal(0, webhooks_alloc(&whs, f->store));
	wh = endpoint(whs, "call.*");
	for (i = 0; i < ARRAY_SIZE(typev); i++)
		assert_int_equal(0, evbus_publish(f->bus, typev[i],
						  json_object()));

	/* at most 2 read: more to do */
	assert_int_equal(0, db_begin(f->db));
	assert_int_equal(EAGAIN, whoutbox_drop(wh, 2, 5000, beyond_handler,
					       &upto, &d));
	assert_int_equal(0, db_end(f->db, 0));
	assert_int_equal(2, d.through);
	assert_int_equal(1, d.n);
	assert_int_equal(1, d.first);
	assert_int_equal(1, d.last);
	assert_int_equal(0, webhook_give_up(wh, d.through));
	assert_int_equal(2, wh->cursor);

	/* the rest up to seq 4, stopping at 5 (kept): 3 owed, 4 not */
	assert_int_equal(0, whoutbox_drop(wh, 100, 6000, beyond_handler,
					  &upto, &d));
	assert_int_equal(4, d.through);
	assert_int_equal(1, d.n);
	assert_int_equal(3, d.first);
	assert_int_equal(0, webhook_give_up(wh, d.through));

	/* nothing more beyond: the cursor stays */
	assert_int_equal(0, whoutbox_drop(wh, 100, 7000, beyond_handler,
					  &upto, &d));
	assert_int_equal(4, d.through);
	assert_int_equal(0, d.n);

	/* each event given up has its record, and only those it owed */
	assert_int_equal(0, whoutbox_records(f->db, wh->id, 100, &arr));
	assert_int_equal(2, json_array_size(arr));
	for (i = 0; i < 2; i++) {
		rec = json_array_get(arr, i);
		assert_string_equal("failed", json_string_value(
				    json_object_get(rec, "state")));
		assert_string_equal(WHOUTBOX_DROPPED, json_string_value(
				    json_object_get(rec, "error")));
		assert_true(json_is_null(json_object_get(rec,
							 "status_code")));
		assert_true(json_is_null(json_object_get(rec,
						"next_attempt_at")));
		atts = json_object_get(rec, "attempts");
		assert_int_equal(1, json_array_size(atts));
		assert_int_equal(0, json_integer_value(json_object_get(
				 json_array_get(atts, 0), "duration_ms")));
	}
	assert_int_equal(3, json_integer_value(json_object_get(
			 json_array_get(arr, 0), "seq")));
	json_decref(arr);

	mem_deref(whs);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(attempts_keep_the_newest_ten,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_retry_keeps_the_trace_of_earlier_failures,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			drop_gives_up_owed_events_up_to_the_first_kept,
			setup, teardown),
	};

	return cmocka_run_group_tests(tests, unit_libre_setup,
				      unit_libre_teardown);
}
