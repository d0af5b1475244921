/**
 * @file wsq.h  A WebSocket connection's queue of messages out, and the
 *              rules that bound it (wsq.c)
 *
 * Pure: no sockets, no lws, no clock of its own (the caller says what
 * time it is), so the policy can be tested alone. web_ws.c owns one per
 * connection.
 *
 * Threads: main thread only.
 */

#ifndef SP_WSQ_H
#define SP_WSQ_H

/** Limits of a queue */
struct wsq_prm {
	size_t headroom;       /* free bytes kept before each payload */
	size_t drop_max;       /* droppable bytes kept (oldest go)    */
	size_t queue_max;      /* all bytes: past this, the client is
				  too far behind                       */
	uint64_t stall_ms;     /* a queue that has not moved this long
				  is stalled                           */
};

/** One message out */
struct wsq_msg {
	struct le le;
	uint8_t *buf;          /* headroom, then the payload          */
	size_t len;            /* payload length                      */
	bool binary;
	bool droppable;
};

/** The queue; every field is the queue's own */
struct wsq {
	struct wsq_prm prm;
	struct list msgl;      /* struct wsq_msg, oldest first        */
	size_t bytes;          /* payload bytes in msgl               */
	size_t drop_bytes;     /* droppable payload bytes in msgl     */
	uint64_t dropped;      /* droppable messages dropped          */
	uint64_t sent;         /* messages taken out by wsq_pop()     */
	uint64_t progress_ms;  /* when the queue last moved           */
};

void wsq_init(struct wsq *q, const struct wsq_prm *prm);
void wsq_flush(struct wsq *q);
int  wsq_push(struct wsq *q, bool binary, bool droppable,
	      const void *data, size_t len, uint64_t now,
	      uint32_t *droppedp);
struct wsq_msg *wsq_head(const struct wsq *q);
void wsq_pop(struct wsq *q, uint64_t now);

#endif
