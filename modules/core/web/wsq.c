/**
 * @file wsq.c  A WebSocket connection's queue out: what is kept, what is
 *              dropped, when the client counts as gone
 *
 * A message marked droppable (a frame of audio) is dropped, oldest
 * first, once the droppable bytes would pass drop_max: a slow client
 * loses audio, never delays anyone else's, and never loses a text
 * message (an event, a command's reply), which is never droppable. A
 * droppable message bigger than drop_max is dropped at once. A client
 * whose queue would pass queue_max with a message that may not be
 * dropped, or whose queue has not moved for stall_ms, is reported so
 * that the caller closes it: its queue would otherwise only grow.
 *
 * Threads: main thread only.
 */

#include <string.h>
#include <re.h>
#include "wsq.h"


static void msg_destructor(void *arg)
{
	struct wsq_msg *m = arg;

	list_unlink(&m->le);
	mem_deref(m->buf);
}


static void msg_remove(struct wsq *q, struct wsq_msg *m)
{
	q->bytes -= m->len;
	if (m->droppable)
		q->drop_bytes -= m->len;
	mem_deref(m);
}


/** Start an empty queue with these limits */
void wsq_init(struct wsq *q, const struct wsq_prm *prm)
{
	if (!q || !prm)
		return;

	memset(q, 0, sizeof(*q));
	q->prm = *prm;
}


/** Drop everything queued (the counters stay) */
void wsq_flush(struct wsq *q)
{
	if (!q)
		return;

	list_flush(&q->msgl);
	q->bytes = 0;
	q->drop_bytes = 0;
}


/* Make room for `room` droppable bytes: the oldest droppable go first.
   Returns how many went. */
static uint32_t drop_oldest(struct wsq *q, size_t room)
{
	struct le *le = list_head(&q->msgl);
	uint32_t n = 0;

	while (le && q->drop_bytes + room > q->prm.drop_max) {
		struct wsq_msg *m = le->data;

		le = le->next;
		if (!m->droppable)
			continue;
		msg_remove(q, m);
		++q->dropped;
		++n;
	}

	return n;
}


/**
 * Queue a message
 *
 * @param q          Queue
 * @param binary     Binary (else text) message
 * @param droppable  May be dropped, oldest first, when the client lags
 * @param data       Payload
 * @param len        Payload length
 * @param now        The time, in ms (tmr_jiffies())
 * @param droppedp   Returned count of droppable messages this call
 *                   dropped: older ones to make room, or this one
 *                   (ENOBUFS); may be NULL
 *
 * @return 0 if queued, ENOBUFS if this message was dropped at once,
 *         ETIMEDOUT if the queue has stalled and EOVERFLOW if it would
 *         pass queue_max (both: the client must be closed; nothing was
 *         queued), otherwise errorcode
 */
int wsq_push(struct wsq *q, bool binary, bool droppable,
	     const void *data, size_t len, uint64_t now,
	     uint32_t *droppedp)
{
	struct wsq_msg *m;
	uint32_t dropped = 0;

	if (droppedp)
		*droppedp = 0;

	if (!q || (!data && len))
		return EINVAL;

	/* a client that takes nothing for long is gone in all but name */
	if (!list_isempty(&q->msgl) && now - q->progress_ms > q->prm.stall_ms)
		return ETIMEDOUT;

	if (droppable) {
		if (len > q->prm.drop_max) {
			++q->dropped;
			if (droppedp)
				*droppedp = 1;
			return ENOBUFS;
		}
		dropped = drop_oldest(q, len);
		if (droppedp)
			*droppedp = dropped;
	}
	else if (q->bytes + len > q->prm.queue_max) {
		return EOVERFLOW;
	}

	m = mem_zalloc(sizeof(*m), msg_destructor);
	if (!m)
		return ENOMEM;

	m->buf = mem_alloc(q->prm.headroom + len, NULL);
	if (!m->buf) {
		mem_deref(m);
		return ENOMEM;
	}
	if (len)
		memcpy(m->buf + q->prm.headroom, data, len);
	m->len = len;
	m->binary = binary;
	m->droppable = droppable;

	/* the stall clock runs only while something waits */
	if (list_isempty(&q->msgl))
		q->progress_ms = now;

	list_append(&q->msgl, &m->le, m);
	q->bytes += len;
	if (droppable)
		q->drop_bytes += len;

	return 0;
}


/** The oldest message, the next to send; NULL if none */
struct wsq_msg *wsq_head(const struct wsq *q)
{
	return q ? list_ledata(list_head(&q->msgl)) : NULL;
}


/** The head was sent: take it out; the queue moved */
void wsq_pop(struct wsq *q, uint64_t now)
{
	struct wsq_msg *m = wsq_head(q);

	if (!m)
		return;

	q->progress_ms = now;
	++q->sent;
	msg_remove(q, m);
}
