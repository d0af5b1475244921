/**
 * @file test_limit.c  Who gets in: the caps on connections, what a refused
 *                     client reads, accept() paused, the log's pace
 *
 * The server's half of a socketpair stands for an accepted connection:
 * the test reads from the other half what a refused client would.
 * web_listen() (web.c, the listening socket) is replaced here.
 */

#include "unit.h"
#include <unistd.h>
#include <sys/socket.h>
#include "sipphone.h"
#include "web/webpriv.h"


static int listens;

int web_listen(struct web *web)
{
	(void)web;
	++listens;

	return 0;
}


/* A server with the given caps, as web_alloc() sets it up */
static void web_setup(struct web *web, uint32_t max, uint32_t per_addr)
{
	const struct web_prm prm = {
		.conn_max = max,
		.conn_per_addr = per_addr,
	};

	memset(web, 0, sizeof(*web));
	web->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(web->lfd >= 0);
	assert_int_equal(0, web_limit_init(web, &prm));
}


static void web_teardown(struct web *web)
{
	tmr_cancel(&web->tmr_accept);
	mem_deref(web->addrh);
	(void)close(web->lfd);
}


/* A connection the server holds, from addr */
static void conn_hold(struct web_conn *conn, struct web *web,
		      const char *addr)
{
	memset(conn, 0, sizeof(*conn));
	conn->web = web;
	assert_int_equal(0, sa_set_str(&conn->peer, addr, 40000));
	web_limit_track(conn);
}


/*
 * Offer a new connection from addr, whose client first sends `sent`;
 * returns web_limit_admit()'s result and, in got, what the client read
 * before the close ("" if it was admitted)
 */
static int offer(struct web *web, const char *addr, const char *sent,
		 char *got, size_t sz)
{
	struct sa peer;
	int sv[2], err;
	ssize_t n;

	assert_int_equal(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	assert_int_equal(0, sa_set_str(&peer, addr, 40001));
	if (sent)
		assert_int_equal((ssize_t)strlen(sent),
				 write(sv[1], sent, strlen(sent)));

	err = web_limit_admit(web, sv[0], &peer);
	if (!err)
		(void)close(sv[0]);

	n = read(sv[1], got, sz - 1);
	got[n > 0 ? n : 0] = '\0';
	(void)close(sv[1]);

	return err;
}


static void caps_in_total_and_per_address(void **state)
{
	struct web_conn a1, a2, b1;
	struct web web;
	char got[512];
	(void)state;

	web_setup(&web, 3, 2);
	conn_hold(&a1, &web, "10.0.0.1");
	conn_hold(&a2, &web, "10.0.0.1");
	assert_int_equal(2, web.nconn);

	/* the third from 10.0.0.1 is one too many, whatever it sent */
	assert_int_equal(EMFILE, offer(&web, "10.0.0.1", "GET / HTTP/1.1\r\n"
				       "\r\n", got, sizeof(got)));
	assert_non_null(strstr(got, "HTTP/1.1 503 Service Unavailable\r\n"));
	assert_non_null(strstr(got, "\r\nConnection: close\r\n"));
	assert_non_null(strstr(got, "\"code\":\"too_many_connections\""));
	assert_non_null(strstr(got, "from your address"));
	assert_int_equal(1, web.refused[WEB_REFUSE_ADDR]);

	/* another address gets in, and fills the server */
	assert_int_equal(0, offer(&web, "10.0.0.2", NULL, got, sizeof(got)));
	assert_string_equal("", got);
	conn_hold(&b1, &web, "10.0.0.2");

	assert_int_equal(EMFILE, offer(&web, "10.0.0.3", NULL, got,
				       sizeof(got)));
	assert_non_null(strstr(got, "HTTP/1.1 503 "));
	assert_non_null(strstr(got, "holds all the connections"));
	assert_int_equal(1, web.refused[WEB_REFUSE_MAX]);

	/* one goes: room again, for 10.0.0.1 too */
	web_limit_untrack(&a2);
	web_limit_untrack(&a2);        /* twice: counted once */
	assert_int_equal(2, web.nconn);
	assert_int_equal(0, offer(&web, "10.0.0.1", NULL, got, sizeof(got)));

	web_limit_untrack(&a1);
	web_limit_untrack(&b1);
	assert_int_equal(0, web.nconn);
	web_teardown(&web);
}


static void descriptors_and_tls(void **state)
{
	struct web_stats st;
	struct web web;
	char got[512];
	(void)state;

	/* a descriptor past what the loop and lws can watch */
	web_setup(&web, 10, 10);
	web.fd_max = 3;
	assert_int_equal(EMFILE, offer(&web, "10.0.0.1", NULL, got,
				       sizeof(got)));
	assert_non_null(strstr(got, "HTTP/1.1 503 "));

	/* on the TLS port a TLS client gets the close only; a plain one
	   is still told why */
	web.fd_max = 1024;
	web.conn_max = 0;
	web.tls = true;
	assert_int_equal(EMFILE, offer(&web, "10.0.0.1", "\x16\x03\x01", got,
				       sizeof(got)));
	assert_string_equal("", got);
	assert_int_equal(EMFILE, offer(&web, "10.0.0.1", "GET / HTTP/1.1\r\n",
				       got, sizeof(got)));
	assert_non_null(strstr(got, "HTTP/1.1 503 "));

	web_stats(&web, &st);
	assert_int_equal(0, st.conns);
	assert_int_equal(1, st.refused[WEB_REFUSE_FD]);
	assert_int_equal(2, st.refused[WEB_REFUSE_MAX]);
	assert_int_equal(0, st.refused[WEB_REFUSE_ADDR]);
	assert_string_equal("descriptors", web_refusal_name(WEB_REFUSE_FD));
	web_teardown(&web);
}


static void accept_pauses_once_per_episode(void **state)
{
	struct web_stats st;
	struct web web;
	char got[64];
	(void)state;

	web_setup(&web, 10, 10);

	/* a connection that went away: the next one is accepted */
	assert_false(web_limit_accept_failed(&web, ECONNABORTED));
	assert_false(web_limit_accept_failed(&web, EINTR));
	assert_int_equal(0, web.accept_pauses);

	/* out of descriptors: paused, and tried again on a timer */
	assert_true(web_limit_accept_failed(&web, EMFILE));
	assert_true(tmr_isrunning(&web.tmr_accept));
	assert_true(web_limit_accept_failed(&web, EMFILE));
	assert_true(web_limit_accept_failed(&web, ENFILE));
	assert_int_equal(1, web.accept_pauses);

	/* accepted again: the episode ends; the next one counts */
	assert_int_equal(0, offer(&web, "10.0.0.1", NULL, got, sizeof(got)));
	assert_int_equal(0, web.paused_at);
	assert_true(web_limit_accept_failed(&web, ENOBUFS));

	web_stats(&web, &st);
	assert_int_equal(2, st.accept_pauses);
	assert_int_equal(0, listens);   /* the timer has not run */
	web_teardown(&web);
}


static void log_lines_are_paced(void **state)
{
	struct web_ratelog rl = {0, 0};
	uint32_t held = 99;
	int i;
	(void)state;

	assert_true(web_ratelog_due(&rl, &held));
	assert_int_equal(0, held);

	for (i = 0; i < 5; i++)
		assert_false(web_ratelog_due(&rl, &held));
	assert_int_equal(0, held);   /* untouched when not due */

	/* ten seconds later the line comes, with the count held back */
	rl.last -= 10000;
	assert_true(web_ratelog_due(&rl, &held));
	assert_int_equal(5, held);
	assert_false(web_ratelog_due(&rl, &held));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(caps_in_total_and_per_address),
		cmocka_unit_test(descriptors_and_tls),
		cmocka_unit_test(accept_pauses_once_per_episode),
		cmocka_unit_test(log_lines_are_paced),
	};

	return cmocka_run_group_tests(tests, unit_libre_setup,
				      unit_libre_teardown);
}
