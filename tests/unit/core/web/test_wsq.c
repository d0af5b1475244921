/**
 * @file test_wsq.c  A WebSocket connection's queue out: what is dropped,
 *                   what is kept, when the client counts as gone
 */

#include "unit.h"
#include <re.h>
#include "web/wsq.h"


enum {
	HEADROOM = 16,
};

static const struct wsq_prm prm = {
	.headroom = HEADROOM,
	.drop_max = 300,
	.queue_max = 1000,
	.stall_ms = 5000,
};


/* Queue a message of len bytes, each byte `tag`; returns wsq_push's */
static int push(struct wsq *q, bool droppable, uint8_t tag, size_t len,
		uint64_t now, uint32_t *droppedp)
{
	uint8_t buf[1200];

	assert_true(len <= sizeof(buf));
	memset(buf, tag, len);

	return wsq_push(q, droppable, droppable, buf, len,
			now, droppedp);
}


/* The tags of the queue, oldest first, as a string */
static const char *tags(const struct wsq *q)
{
	static char s[64];
	struct le *le;
	size_t n = 0;

	for (le = list_head(&q->msgl); le && n + 1 < sizeof(s); le = le->next)
	{
		const struct wsq_msg *m = le->data;

		s[n++] = m->len ? (char)m->buf[HEADROOM] : '-';
	}
	s[n] = '\0';

	return s;
}


static void drops_oldest_droppable_first(void **state)
{
	struct wsq q;
	uint32_t dropped = 99;
	(void)state;

	wsq_init(&q, &prm);

	assert_int_equal(0, push(&q, true, 'a', 100, 0, &dropped));
	assert_int_equal(0, dropped);
	assert_int_equal(0, push(&q, false, 'T', 50, 0, &dropped));
	assert_int_equal(0, push(&q, true, 'b', 100, 0, &dropped));
	assert_int_equal(0, push(&q, true, 'c', 100, 0, &dropped));
	assert_string_equal("aTbc", tags(&q));
	assert_int_equal(0, dropped);
	assert_int_equal(350, q.bytes);
	assert_int_equal(300, q.drop_bytes);

	/* 300 droppable bytes held: the next one pushes out the oldest,
	   and the text message before it stays */
	assert_int_equal(0, push(&q, true, 'd', 100, 0, &dropped));
	assert_int_equal(1, dropped);
	assert_string_equal("Tbcd", tags(&q));

	/* a big one makes room by dropping as many as it takes */
	assert_int_equal(0, push(&q, true, 'e', 250, 0, &dropped));
	assert_int_equal(3, dropped);
	assert_string_equal("Te", tags(&q));
	assert_int_equal(4, q.dropped);
	assert_int_equal(300, q.bytes);
	assert_int_equal(250, q.drop_bytes);

	/* what a message would hold: the payload after the headroom */
	assert_int_equal(50, wsq_head(&q)->len);
	assert_false(wsq_head(&q)->droppable);

	wsq_flush(&q);
	assert_null(wsq_head(&q));
	assert_int_equal(0, q.bytes);
	assert_int_equal(0, q.drop_bytes);
}


static void text_is_never_dropped(void **state)
{
	struct wsq q;
	uint32_t dropped = 99;
	int i;
	(void)state;

	wsq_init(&q, &prm);

	/* text past drop_max is kept: only queue_max bounds it */
	for (i = 0; i < 9; i++)
		assert_int_equal(0, push(&q, false, (uint8_t)('0' + i), 100,
					 0, &dropped));
	assert_string_equal("012345678", tags(&q));
	assert_int_equal(0, q.dropped);

	/* a droppable one still fits beside it, within its own limit */
	assert_int_equal(0, push(&q, true, 'a', 100, 0, &dropped));
	assert_int_equal(0, dropped);

	/* 1000 bytes: one more text message means a client this far
	   behind, reported for closing, and nothing queued */
	assert_int_equal(EOVERFLOW, push(&q, false, 'x', 1, 0, &dropped));
	assert_int_equal(1000, q.bytes);
	assert_string_equal("012345678a", tags(&q));

	wsq_flush(&q);
}


static void too_big_is_dropped_at_once(void **state)
{
	struct wsq q;
	uint32_t dropped = 0;
	(void)state;

	wsq_init(&q, &prm);

	assert_int_equal(0, push(&q, true, 'a', 100, 0, &dropped));
	assert_int_equal(ENOBUFS, push(&q, true, 'b', 301, 0, &dropped));
	assert_int_equal(1, dropped);
	assert_int_equal(1, q.dropped);
	assert_string_equal("a", tags(&q));

	/* droppedp may be NULL */
	assert_int_equal(ENOBUFS, push(&q, true, 'b', 301, 0, NULL));
	assert_int_equal(2, q.dropped);

	wsq_flush(&q);
}


static void stall_and_progress(void **state)
{
	struct wsq q;
	uint32_t dropped;
	(void)state;

	wsq_init(&q, &prm);

	/* an empty queue never stalls, however long it was idle */
	assert_int_equal(0, push(&q, false, 'a', 10, 100000, &dropped));

	/* the clock starts when something waits ... */
	assert_int_equal(0, push(&q, false, 'b', 10, 105000, &dropped));
	assert_int_equal(ETIMEDOUT, push(&q, false, 'c', 10, 105001,
					 &dropped));
	assert_string_equal("ab", tags(&q));

	/* ... and a sent message moves it */
	wsq_pop(&q, 105001);
	assert_int_equal(1, q.sent);
	assert_string_equal("b", tags(&q));
	assert_int_equal(0, push(&q, false, 'c', 10, 110001, &dropped));
	wsq_pop(&q, 110002);
	wsq_pop(&q, 110002);
	assert_null(wsq_head(&q));
	assert_int_equal(3, q.sent);
	assert_int_equal(0, q.bytes);

	/* popping an empty queue changes nothing */
	wsq_pop(&q, 120000);
	assert_int_equal(3, q.sent);

	wsq_flush(&q);
}


static void bad_arguments(void **state)
{
	struct wsq q;
	uint32_t dropped = 5;
	(void)state;

	wsq_init(&q, &prm);
	assert_int_equal(EINVAL, wsq_push(&q, false, false, NULL, 3, 0,
					  &dropped));
	assert_int_equal(0, dropped);
	assert_int_equal(EINVAL, wsq_push(NULL, false, false, "x", 1, 0,
					  NULL));
	assert_int_equal(0, wsq_push(&q, false, false, NULL, 0, 0, NULL));
	assert_string_equal("-", tags(&q));
	wsq_flush(&q);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(drops_oldest_droppable_first),
		cmocka_unit_test(text_is_never_dropped),
		cmocka_unit_test(too_big_is_dropped_at_once),
		cmocka_unit_test(stall_and_progress),
		cmocka_unit_test(bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
