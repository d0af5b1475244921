/**
 * @file web_ws.c  WebSocket on an lws connection: upgrade, messages in,
 *                 a bounded queue of messages out
 *
 * The upgrade is offered to the application's accept handler while the
 * request headers are still there; a refusal is answered as an HTTP
 * error. Messages in are reassembled from fragments up to WS_MSG_MAX
 * (bigger: close 1009); lws checks text for UTF-8 (bad: close 1007).
 *
 * Out, each connection has its own queue (wsq.c, which holds the rules):
 * a message marked droppable (a frame of audio) is dropped, oldest
 * first, once the droppable bytes pass DROP_MAX_DEFAULT: a slow client
 * loses audio, never delays anyone else's. A client whose queue does not
 * move for STALL_MS, or would pass QUEUE_MAX, is closed here with 1008.
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

static const struct wsq_prm txq_prm = {
	.headroom = LWS_PRE,
	.drop_max = DROP_MAX_DEFAULT,
	.queue_max = QUEUE_MAX,
	.stall_ms = STALL_MS,
};

/** Free what a connection's WebSocket holds */
void web_ws_reset(struct web_conn *conn)
{
	struct web_ws_st *ws = &conn->ws;

	wsq_flush(&ws->txq);
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


/**
 * LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: may this request become a socket?
 *
 * @param conn     Connection
 * @param upgrade  Its Upgrade header: websocket, or h2c (lws would
 *                 switch to HTTP/2, which we do not serve)
 *
 * @return 0 to upgrade, 1 if refused here, -1 to drop the connection
 */
int web_ws_confirm(struct web_conn *conn, const char *upgrade)
{
	const struct web_ws_handlers *wsh = conn->web->wsh;
	struct sp_err ref;
	char path[256], ver[12];
	int err;

	/* lws read this head */
	conn->peek = false;

	if (lws_hdr_copy(conn->wsi, path, sizeof(path),
			 WSI_TOKEN_GET_URI) < 0)
		return -1;

	err = web_http_req_read(conn, path);
	if (err)
		return -1;

	if (lws_hdr_copy(conn->wsi, ver, sizeof(ver), WSI_TOKEN_HTTP) < 0)
		ver[0] = '\0';
	if (web_head_version(ver, &ref))
		return refuse(conn, &ref);

	if (str_casecmp(upgrade, "websocket")) {
		sp_err_set(&ref, 400, "bad_request", "Upgrade: only websocket"
			   " is spoken here");
		return refuse(conn, &ref);
	}

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
	wsq_init(&ws->txq, &txq_prm);
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
	struct wsq_msg *m;
	int n;

	conn->wantw = false;

	m = wsq_head(&ws->txq);
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

	wsq_pop(&ws->txq, tmr_jiffies());

	if (wsq_head(&ws->txq) || ws->close_code)
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
	int err;

	if (droppedp)
		*droppedp = 0;

	if (!conn || (!data && len))
		return EINVAL;

	ws = &conn->ws;
	if (!conn->wsi || !ws->open || ws->close_code)
		return ENOTCONN;

	err = wsq_push(&ws->txq, binary, droppable, data, len, tmr_jiffies(),
		       droppedp);
	switch (err) {

	case 0:
		web_conn_want_write(conn);
		return 0;

	case ETIMEDOUT:
		warning("web: %J: WebSocket client took nothing for %u ms:"
			" closing\n", &conn->peer, STALL_MS);
		web_ws_close(conn, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			     "send queue stalled");
		return ENOTCONN;

	case EOVERFLOW:
		warning("web: %J: WebSocket send queue over %u bytes:"
			" closing\n", &conn->peer, QUEUE_MAX);
		web_ws_close(conn, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			     "send queue full");
		return ENOTCONN;

	default:
		return err;
	}
}


/** Counters of a WebSocket's queue out */
void web_ws_stats(const struct web_conn *conn, struct web_ws_stats *st)
{
	if (!conn || !st)
		return;

	st->queued_bytes = conn->ws.txq.bytes;
	st->sent = conn->ws.txq.sent;
	st->dropped = conn->ws.txq.dropped;
}
