/**
 * @file web_ws.c  WebSocket on an lws connection: upgrade, messages in,
 *                 a bounded queue of messages out
 *
 * The upgrade is offered to the application's accept handler while the
 * request headers are still there; a refusal is answered as an HTTP
 * error. Messages in are reassembled from fragments up to WS_MSG_MAX
 * (bigger: close 1009); lws checks text for UTF-8 (bad: close 1007).
 *
 * Out, each connection has its own queue. A message marked droppable
 * (a frame of audio) is dropped, oldest first, once the droppable bytes
 * pass the connection's limit: a slow client loses audio, never delays
 * anyone else's. A client whose queue does not move for STALL_MS, or
 * whose queue passes QUEUE_MAX, is closed with 1008.
 *
 * Threads: main thread only.
 */

#include <string.h>
#include "sipphone.h"
#include "webpriv.h"


enum {
	WS_MSG_MAX = 65536,          /* largest message we take in        */
	QUEUE_MAX = 1024 * 1024,     /* out: a client this far behind ... */
	STALL_MS = 5000,             /* ... or stuck this long, is closed */
	DROP_MAX_DEFAULT = 16384,    /* out: droppable bytes kept          */
	CLOSE_WAIT_S = 2,            /* a close frame gets this long       */
};

struct wsmsg {
	struct le le;
	uint8_t *buf;          /* LWS_PRE headroom, then the payload */
	size_t len;
	bool binary;
	bool droppable;
};


static void wsmsg_destructor(void *arg)
{
	struct wsmsg *m = arg;

	list_unlink(&m->le);
	mem_deref(m->buf);
}


static void msg_drop(struct web_ws_st *ws, struct wsmsg *m)
{
	ws->tx_bytes -= m->len;
	if (m->droppable)
		ws->tx_drop_bytes -= m->len;
	mem_deref(m);
}


/** Free what a connection's WebSocket holds */
void web_ws_reset(struct web_conn *conn)
{
	struct web_ws_st *ws = &conn->ws;

	list_flush(&ws->txl);
	ws->tx_bytes = 0;
	ws->tx_drop_bytes = 0;
	ws->rx = mem_deref(ws->rx);
}


static int refuse(struct web_conn *conn, const struct sp_err *ref)
{
	char *body = NULL;
	int err;

	/* the message may quote the client's path or Origin */
	err = re_sdprintf(&body, "%H", sp_err_print, ref);
	if (err)
		return -1;

	err = web_http_write_now(conn, ref->status, ref->hdrs, body);
	mem_deref(body);

	/* > 0: we answered the request ourselves */
	return err ? -1 : 1;
}


/** LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: may this request become a socket? */
int web_ws_confirm(struct web_conn *conn)
{
	const struct web_ws_handlers *wsh = conn->web->wsh;
	struct sp_err ref;
	char path[256];
	int err;

	if (lws_hdr_copy(conn->wsi, path, sizeof(path),
			 WSI_TOKEN_GET_URI) < 0)
		return -1;

	err = web_http_req_read(conn, path);
	if (err)
		return -1;

	/* ws:// on the TLS port: refused unless plain HTTP is allowed (a
	   WebSocket client follows no redirect) */
	err = web_http_plain(conn, true);
	if (err)
		return err;

	sp_err_set(&ref, 404, "not_found", "no WebSocket here");

	if (!wsh || !wsh->accepth(&conn->req, &ref, conn->web->wsarg))
		return refuse(conn, &ref);

	return 0;
}


/** LWS_CALLBACK_ESTABLISHED: the socket is open */
int web_ws_established(struct web_conn *conn)
{
	const struct web_ws_handlers *wsh = conn->web->wsh;
	struct web_ws_st *ws = &conn->ws;

	ws->open = true;
	ws->progress_ms = tmr_jiffies();
	ws->rx = mbuf_alloc(1024);
	if (!ws->rx)
		return -1;

	if (wsh->openh)
		wsh->openh(conn, &conn->req, conn->web->wsarg);

	return 0;
}


/** Close the socket from our side once what is queued ahead is sent */
int web_ws_close(struct web_conn *conn, uint16_t code, const char *reason)
{
	struct web_ws_st *ws;

	if (!conn || !conn->wsi)
		return EINVAL;

	ws = &conn->ws;
	if (!ws->open || ws->close_code)
		return 0;

	ws->close_code = code;
	str_ncpy(ws->close_reason, reason ? reason : "",
		 sizeof(ws->close_reason));
	web_conn_want_write(conn);

	/* a client that takes nothing takes no close frame either: drop
	   the socket if the close cannot be sent in time */
	lws_set_timeout(conn->wsi, PENDING_TIMEOUT_CLOSE_SEND, CLOSE_WAIT_S);

	return 0;
}


/** LWS_CALLBACK_RECEIVE: a piece of a message */
int web_ws_receive(struct web_conn *conn, const void *in, size_t len)
{
	const struct web_ws_handlers *wsh = conn->web->wsh;
	struct web_ws_st *ws = &conn->ws;
	struct lws *wsi = conn->wsi;

	if (!ws->open || ws->close_code)
		return 0;

	if (lws_is_first_fragment(wsi)) {
		mbuf_reset(ws->rx);
		ws->rx_binary = lws_frame_is_binary(wsi);
	}

	if (ws->rx->end + len > WS_MSG_MAX) {
		warning("web: %J: WebSocket message over %u bytes: closing\n",
			&conn->peer, WS_MSG_MAX);
		web_ws_close(conn, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
			     "message too big");
		return 0;
	}

	if (mbuf_write_mem(ws->rx, in, len))
		return -1;

	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;

	if (wsh->recvh)
		wsh->recvh(conn, ws->rx_binary, ws->rx->buf, ws->rx->end,
			   conn->web->wsarg);

	if (ws->rx)
		mbuf_reset(ws->rx);

	return 0;
}


/** LWS_CALLBACK_SERVER_WRITEABLE: one message out, or our close */
int web_ws_writeable(struct web_conn *conn)
{
	struct web_ws_st *ws = &conn->ws;
	struct wsmsg *m;
	int n;

	conn->wantw = false;

	m = list_ledata(list_head(&ws->txl));
	if (!m) {
		if (!ws->close_code)
			return 0;
		lws_close_reason(conn->wsi, ws->close_code,
				 (unsigned char *)ws->close_reason,
				 strlen(ws->close_reason));
		return -1;
	}

	n = lws_write(conn->wsi, m->buf + LWS_PRE, m->len,
		      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	if (n < (int)m->len)
		return -1;

	ws->progress_ms = tmr_jiffies();
	++ws->tx_sent;
	msg_drop(ws, m);

	if (!list_isempty(&ws->txl) || ws->close_code)
		web_conn_want_write(conn);

	return 0;
}


/** LWS_CALLBACK_CLOSED (or destroy without it): tell the application */
void web_ws_closed(struct web_conn *conn)
{
	const struct web_ws_handlers *wsh = conn->web->wsh;
	struct web_ws_st *ws = &conn->ws;

	if (!ws->open)
		return;

	ws->open = false;
	if (wsh && wsh->closeh)
		wsh->closeh(conn, ws->close_code ? ws->close_code :
			    ws->peer_code ? ws->peer_code :
			    LWS_CLOSE_STATUS_ABNORMAL_CLOSE, conn->web->wsarg);

	web_ws_reset(conn);
}


/* Make room for a droppable message: oldest droppable ones go first.
   Returns how many were dropped. */
static uint32_t drop_oldest(struct web_ws_st *ws, size_t room, size_t limit)
{
	struct le *le = list_head(&ws->txl);
	uint32_t n = 0;

	while (le && ws->tx_drop_bytes + room > limit) {
		struct wsmsg *m = le->data;

		le = le->next;
		if (!m->droppable)
			continue;
		msg_drop(ws, m);
		++ws->tx_dropped;
		++n;
	}

	return n;
}


/**
 * Queue a message to a WebSocket client
 *
 * @param conn       Connection (an open WebSocket)
 * @param binary     Binary (else text) message
 * @param droppable  May be dropped (oldest first) when the client lags
 * @param data       Payload
 * @param len        Payload length
 * @param droppedp   Returned count of droppable messages dropped by this
 *                   call: older ones to make room, or this one (ENOBUFS);
 *                   may be NULL
 *
 * @return 0 if queued, ENOBUFS if dropped at once, ENOTCONN if the
 *         socket is not open (or is being closed for lagging)
 */
int web_ws_send(struct web_conn *conn, bool binary, bool droppable,
		const void *data, size_t len, uint32_t *droppedp)
{
	struct web_ws_st *ws;
	struct wsmsg *m;
	uint64_t now;
	uint32_t dropped = 0;

	if (droppedp)
		*droppedp = 0;

	if (!conn || (!data && len))
		return EINVAL;

	ws = &conn->ws;
	if (!conn->wsi || !ws->open || ws->close_code)
		return ENOTCONN;

	/* a client that takes nothing for long is gone in all but name */
	now = tmr_jiffies();
	if (!list_isempty(&ws->txl) && now - ws->progress_ms > STALL_MS) {
		warning("web: %J: WebSocket client took nothing for %u ms:"
			" closing\n", &conn->peer, STALL_MS);
		web_ws_close(conn, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			     "send queue stalled");
		return ENOTCONN;
	}

	if (droppable) {
		if (len > DROP_MAX_DEFAULT) {
			++ws->tx_dropped;
			if (droppedp)
				*droppedp = 1;
			return ENOBUFS;
		}
		dropped = drop_oldest(ws, len, DROP_MAX_DEFAULT);
		if (droppedp)
			*droppedp = dropped;
	}
	else if (ws->tx_bytes + len > QUEUE_MAX) {
		warning("web: %J: WebSocket send queue over %u bytes:"
			" closing\n", &conn->peer, QUEUE_MAX);
		web_ws_close(conn, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			     "send queue full");
		return ENOTCONN;
	}

	m = mem_zalloc(sizeof(*m), wsmsg_destructor);
	if (!m)
		return ENOMEM;

	m->buf = mem_alloc(LWS_PRE + len, NULL);
	if (!m->buf) {
		mem_deref(m);
		return ENOMEM;
	}
	if (len)
		memcpy(m->buf + LWS_PRE, data, len);
	m->len = len;
	m->binary = binary;
	m->droppable = droppable;

	if (list_isempty(&ws->txl))
		ws->progress_ms = now;

	list_append(&ws->txl, &m->le, m);
	ws->tx_bytes += len;
	if (droppable)
		ws->tx_drop_bytes += len;

	web_conn_want_write(conn);

	return 0;
}


/** Counters of a WebSocket's queue out */
void web_ws_stats(const struct web_conn *conn, struct web_ws_stats *st)
{
	if (!conn || !st)
		return;

	st->queued_bytes = conn->ws.tx_bytes;
	st->sent = conn->ws.tx_sent;
	st->dropped = conn->ws.tx_dropped;
}
