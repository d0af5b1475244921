/**
 * @file test_linestore.c  Lines kept across restarts (linestore.c, and
 *                         line.c's restore), in a temporary event store
 *
 * A "restart" is the line table freed and made again on the same store,
 * as module_close() and module_init() do.
 */

#include <sqlite3.h>
#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"
#include "linefix.h"


static void restart(struct fixture *fx, const struct lines_cfg *cfg)
{
	fx->lines = mem_deref(fx->lines);
	assert_int_equal(0, lines_alloc(&fx->lines, fx->bus, fx->store, cfg));
}


static sqlite3 *db_of(const struct fixture *fx)
{
	return evstore_db(fx->store);
}


static void sql(const struct fixture *fx, const char *stmt)
{
	assert_int_equal(SQLITE_OK, sqlite3_exec(db_of(fx), stmt, NULL, NULL,
						 NULL));
}


static int rows(const struct fixture *fx)
{
	sqlite3_stmt *st;
	int n;

	assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(db_of(fx),
			 "SELECT count(*) FROM lines", -1, &st, NULL));
	assert_int_equal(SQLITE_ROW, sqlite3_step(st));
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);

	return n;
}


static size_t event_count(const struct fixture *fx)
{
	return json_array_size(fx->events);
}


static json_t *event_last(const struct fixture *fx, const char *type)
{
	json_t *env = json_array_get(fx->events, event_count(fx) - 1);

	assert_non_null(env);
	assert_string_equal(type,
			    json_string_value(json_object_get(env, "type")));

	return json_object_get(env, "data");
}


static int bind_line(struct fixture *fx, const char *id, const char *contact,
		     const char *src_ip, uint16_t src_port,
		     enum sip_transp tp, const char *ua, uint32_t expires)
{
	struct line_binding b;
	struct sa src;

	assert_int_equal(0, sa_set_str(&src, src_ip, src_port));

	memset(&b, 0, sizeof(b));
	b.contact = contact;
	b.src = &src;
	b.tp = tp;
	b.user_agent = ua;
	b.expires = expires;

	return lines_bind(fx->lines, id, &b);
}


static void stop_handler(void *arg)
{
	(void)arg;
	re_cancel();
}


/* Run the loop for ms: what is due at once happens */
static void run_ms(uint32_t ms)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, ms, stop_handler, NULL);
	assert_int_equal(0, re_main(NULL));
	tmr_cancel(&t);
}


/* A live binding comes back as it was, with what is left of it */
static void test_restore_registered(void **state)
{
	struct fixture *fx = *state;
	const struct line *line;
	uint64_t registered_at, last, t0 = tmr_jiffies();
	uint32_t slow;
	size_t n;

	assert_int_equal(0, bind_line(fx, "100",
				      "sip:100@192.168.1.50:5062;transport=udp",
				      "203.0.113.9", 61000, SIP_TRANSP_UDP,
				      "Grandstream HT802 1.0.51.2", 3600));
	assert_int_equal(0, bind_line(fx, "101", "sip:101@[fd00::9]:5060",
				      "fd00::9", 5060, SIP_TRANSP_TCP,
				      "caf\xc3\xa9", 120));
	line = lines_find(fx->lines, "100");
	registered_at = line->registered_at;
	last = line->last_register_at;
	assert_int_equal(2, rows(fx));
	n = event_count(fx);

	restart(fx, NULL);
	/* the seconds this took, rounded up: under valgrind in an emulated
	   arm chroot (scripts/test-arch) a restart is seconds, not ms */
	slow = (uint32_t)((tmr_jiffies() - t0) / 1000 + 1);

	assert_int_equal(2, lines_registered_count(fx->lines));
	line = lines_find(fx->lines, "100");
	assert_non_null(line);
	assert_true(line->registered);
	assert_string_equal("sip:100@192.168.1.50:5062;transport=udp",
			    line->contact);
	assert_string_equal("sip:100@203.0.113.9:61000;transport=udp",
			    line->dial_uri);
	assert_true(sa_isset(&line->src, SA_ALL));
	assert_int_equal(61000, sa_port(&line->src));
	assert_int_equal(SIP_TRANSP_UDP, line->tp);
	assert_string_equal("Grandstream HT802 1.0.51.2", line->user_agent);
	assert_int_equal(3600, line->expires);
	assert_in_range(line_expires_left(line), 3600 - slow, 3600);
	assert_int_equal(registered_at, line->registered_at);
	assert_int_equal(last, line->last_register_at);
	assert_true(tmr_isrunning(&line->tmr));

	line = lines_find(fx->lines, "101");
	assert_non_null(line);
	assert_true(line->registered);
	assert_int_equal(SIP_TRANSP_TCP, line->tp);
	assert_int_equal(AF_INET6, sa_af(&line->src));
	assert_string_equal("caf\xc3\xa9", line->user_agent);
	assert_in_range(line_expires_left(line), 120 - slow, 120);

	/* nothing happened to anyone: nothing is said */
	assert_int_equal(n, event_count(fx));

	/* and it goes on: a refresh from its owner is a refresh */
	assert_int_equal(0, bind_line(fx, "100",
				      "sip:100@192.168.1.50:5062;transport=udp",
				      "203.0.113.9", 61000, SIP_TRANSP_UDP,
				      "Grandstream HT802 1.0.51.2", 3600));
	assert_int_equal(n, event_count(fx));
	assert_int_equal(registered_at,
			 lines_find(fx->lines, "100")->registered_at);

	/* a takeover is refused as before the restart */
	assert_int_equal(EPERM, bind_line(fx, "100", "sip:100@10.6.6.6",
					  "10.6.6.6", 5060, SIP_TRANSP_UDP,
					  "x", 3600));
}


/* A binding that ran out while the service was down ends at start */
static void test_restore_expired(void **state)
{
	struct fixture *fx = *state;
	const struct line *line;
	uint64_t end = sptime_now_ms() - 5000;
	char stmt[128];
	json_t *data;
	size_t n;

	assert_int_equal(0, bind_line(fx, "100", "sip:100@10.0.0.5",
				      "10.0.0.5", 5060, SIP_TRANSP_UDP,
				      "HT802", 60));
	assert_int_equal(0, bind_line(fx, "101", "sip:101@10.0.0.5:5062",
				      "10.0.0.5", 5062, SIP_TRANSP_UDP,
				      "HT802", 60));
	n = event_count(fx);

	/* as if the service had been down for longer than line 100's 60 s */
	re_snprintf(stmt, sizeof(stmt), "UPDATE lines SET expires_at = %llu"
		    " WHERE id = '100'", (unsigned long long)end);
	sql(fx, stmt);

	restart(fx, NULL);

	line = lines_find(fx->lines, "100");
	assert_non_null(line);
	assert_false(line->registered);
	assert_int_equal(0, line_expires_left(line));
	assert_string_equal("sip:100@10.0.0.5", line->contact);
	assert_int_equal(end, line->unregistered_at);
	assert_true(lines_find(fx->lines, "101")->registered);
	assert_int_equal(1, lines_registered_count(fx->lines));

	/* one event: it expired, as if we had been there */
	assert_int_equal(n + 1, event_count(fx));
	data = event_last(fx, "line.unregistered");
	assert_string_equal("100", json_string_value(
				    json_object_get(data, "line")));
	assert_string_equal("expired", json_string_value(
				    json_object_get(data, "reason")));

	/* written so: the next start says nothing more */
	restart(fx, NULL);
	assert_int_equal(n + 1, event_count(fx));
	assert_false(lines_find(fx->lines, "100")->registered);
	assert_int_equal(end, lines_find(fx->lines, "100")->unregistered_at);
}


/* Unregistered lines come back unregistered, and are forgotten on time;
   a forgotten line's row goes, a teardown leaves the rows alone */
static void test_restore_unregistered_and_forget(void **state)
{
	struct fixture *fx = *state;
	struct lines_cfg cfg = {.max = 8, .keep_s = 3600};
	struct sa src;
	char stmt[128];

	assert_int_equal(0, sa_set_str(&src, "10.0.0.5", 5060));
	assert_int_equal(0, bind_line(fx, "100", "sip:100@10.0.0.5",
				      "10.0.0.5", 5060, SIP_TRANSP_UDP,
				      "HT802", 60));
	assert_int_equal(0, bind_line(fx, "101", "sip:101@10.0.0.5:5062",
				      "10.0.0.5", 5062, SIP_TRANSP_UDP,
				      "HT802", 60));
	assert_int_equal(0, lines_unbind(fx->lines, "100", NULL, &src,
					 false));
	assert_int_equal(0, lines_unbind(fx->lines, "101", NULL, &src,
					 false));

	/* line 100 ended two hours ago */
	re_snprintf(stmt, sizeof(stmt), "UPDATE lines SET unregistered_at ="
		    " %llu WHERE id = '100'",
		    (unsigned long long)(sptime_now_ms() - 7200 * 1000));
	sql(fx, stmt);

	restart(fx, &cfg);
	assert_int_equal(2, rows(fx));
	assert_false(lines_find(fx->lines, "100")->registered);
	assert_false(lines_find(fx->lines, "101")->registered);
	assert_int_equal(0, lines_registered_count(fx->lines));

	/* beyond the hour kept: forgotten at once, row and all */
	run_ms(20);
	assert_null(lines_find(fx->lines, "100"));
	assert_non_null(lines_find(fx->lines, "101"));
	assert_true(tmr_get_expire(&lines_find(fx->lines, "101")->tmr)
		    > 3590 * 1000);
	assert_int_equal(1, rows(fx));
}


/* A lower httpctl_lines_max: the registered lines come back first */
static void test_restore_fewer(void **state)
{
	struct fixture *fx = *state;
	struct lines_cfg cfg = {.max = 2, .keep_s = 3600};
	struct sa src;

	assert_int_equal(0, sa_set_str(&src, "10.0.0.7", 5060));
	assert_int_equal(0, bind_line(fx, "100", "sip:100@10.0.0.5",
				      "10.0.0.5", 5060, SIP_TRANSP_UDP,
				      "HT802", 60));
	assert_int_equal(0, bind_line(fx, "101", "sip:101@10.0.0.6",
				      "10.0.0.6", 5060, SIP_TRANSP_UDP,
				      "HT802", 60));
	assert_int_equal(0, bind_line(fx, "102", "sip:102@10.0.0.7",
				      "10.0.0.7", 5060, SIP_TRANSP_UDP,
				      "HT802", 60));
	assert_int_equal(0, lines_unbind(fx->lines, "102", NULL, &src,
					 false));

	restart(fx, &cfg);

	assert_int_equal(2, list_count(lines_list(fx->lines)));
	assert_true(lines_find(fx->lines, "100")->registered);
	assert_true(lines_find(fx->lines, "101")->registered);
	assert_null(lines_find(fx->lines, "102"));
	assert_int_equal(2, rows(fx));
}


/* What the store keeps of a line, and rows that hold no binding */
static void test_store_rows(void **state)
{
	struct fixture *fx = *state;
	sqlite3_stmt *st;
	uint64_t t0 = sptime_now_ms();

	assert_int_equal(0, bind_line(fx, "100", "sip:100@10.0.0.5",
				      "10.0.0.5", 5070, SIP_TRANSP_UDP,
				      "HT802", 60));

	assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(db_of(fx),
			 "SELECT registered, contact, source, transport,"
			 " user_agent, expires, expires_at - ? FROM lines",
			 -1, &st, NULL));
	sqlite3_bind_int64(st, 1, (sqlite3_int64)sptime_now_ms());
	/* what is left: 60 s less the time this took */
	assert_int_equal(SQLITE_ROW, sqlite3_step(st));
	assert_int_equal(1, sqlite3_column_int(st, 0));
	assert_string_equal("sip:100@10.0.0.5",
			    (const char *)sqlite3_column_text(st, 1));
	assert_string_equal("10.0.0.5:5070",
			    (const char *)sqlite3_column_text(st, 2));
	assert_string_equal("UDP", (const char *)sqlite3_column_text(st, 3));
	assert_string_equal("HT802", (const char *)sqlite3_column_text(st, 4));
	assert_int_equal(60, sqlite3_column_int(st, 5));
	assert_in_range(sqlite3_column_int64(st, 6),
			60000 - (sptime_now_ms() - t0) - 1000, 60000);
	sqlite3_finalize(st);

	/* rows that are no binding: skipped, the others restored */
	sql(fx, "INSERT INTO lines VALUES ('200', 1, NULL, '10.0.0.1:5060',"
	    " 'UDP', '', 60, 0, 0, 0, 0)");
	sql(fx, "INSERT INTO lines VALUES ('201', 1, 'sip:201@10.0.0.1',"
	    " 'not an address', 'UDP', '', 60, 0, 0, 0, 0)");
	sql(fx, "INSERT INTO lines VALUES ('202', 1, 'sip:202@10.0.0.1',"
	    " '10.0.0.1:5060', 'carrier-pigeon', '', 60, 0, 0, 0, 0)");
	sql(fx, "INSERT INTO lines VALUES ('203', 1, 'no uri at all',"
	    " '10.0.0.1:5060', 'UDP', '', 60, 99999999999999, 0, 0, 0)");
	sql(fx, "INSERT INTO lines VALUES (CAST(x'3230ff' AS TEXT), 1,"
	    " 'sip:204@10.0.0.1', '10.0.0.1:5060', 'UDP', '', 60, 0, 0, 0,"
	    " 0)");

	restart(fx, NULL);

	assert_int_equal(1, list_count(lines_list(fx->lines)));
	assert_true(lines_find(fx->lines, "100")->registered);
	assert_null(lines_find(fx->lines, "203"));

	/* bad arguments */
	assert_int_equal(EINVAL, linestore_open(NULL));
	assert_int_equal(EINVAL, linestore_save(NULL,
					lines_find(fx->lines, "100")));
	assert_int_equal(EINVAL, linestore_save(db_of(fx), NULL));
	assert_int_equal(EINVAL, linestore_delete(db_of(fx), NULL));
	assert_int_equal(EINVAL, linestore_load(db_of(fx), NULL, NULL));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		LINEFIX_TEST(test_restore_registered),
		LINEFIX_TEST(test_restore_expired),
		LINEFIX_TEST(test_restore_unregistered_and_forget),
		LINEFIX_TEST(test_restore_fewer),
		LINEFIX_TEST(test_store_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
