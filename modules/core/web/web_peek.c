/**
 * @file web_peek.c  Each request head of a plain connection, read by us
 *                   before lws reads it
 *
 * lws answers some malformed requests itself, before any callback of
 * ours, as we never answer ("HTTP/1.0 403" and an HTML page, or a
 * silent close: web_head.c says which). So when a request head is due
 * on a plain connection, its bytes are peeked (recv MSG_PEEK: they stay
 * in the socket for lws) and checked by web_head_check() first:
 *
 *  - a head lws may read is left to it, and nothing more is peeked
 *    until the next request is due;
 *  - a malformed one is answered here, with the fixed HTTP/1.1 JSON
 *    error of web_head_error() sent on the socket (lws has sent nothing
 *    on it since its last reply), and the connection is closed;
 *  - a head not yet whole stays in the socket, and SO_RCVLOWAT makes
 *    the socket readable again only when more bytes than these have
 *    come (or the client closed): no busy loop in the level-triggered
 *    loop. The request's timer keeps running meanwhile: lws's first
 *    request timeout (timeout_secs) or our keep-alive idle timer.
 *
 * Until the first head is checked, lws's poll table has no POLLIN for
 * a new socket (lws_rx_flow_control()): a client's first bytes are
 * often there when it is accepted, and the periodic lws_service() of
 * web.c, due in the same pass of the main loop, would read them first.
 * A kept-alive connection is not held so: lws may hold bytes of its
 * next request (pipelining), and a client sends that request only once
 * it has the reply, when the main loop waits in epoll again.
 *
 * A request head is due on a new connection, and on a kept-alive one
 * once its reply is out (web_peek_arm()), unless lws already holds bytes
 * of it: a client that sends its next request before the reply to the
 * last (pipelining) may have had them read with the last one. lws does
 * not say whose bytes it holds, only whether any connection's are
 * (lws_service_adjust_timeout()); then this request is left to lws.
 * So are TLS connections (their bytes are records; lws decrypts them):
 * on the TLS port only plain-HTTP connections are peeked.
 *
 * Threads: main thread only.
 */

#include <errno.h>
#include <sys/socket.h>
#include "sipphone.h"
#include "webpriv.h"


static const struct web_head_lim head_lim = {
	.data = WEB_HEAD_DATA,
	.frags = WSI_TOKEN_COUNT,
};


/* Make the socket readable again at min bytes waiting (1: as usual) */
static void lowat_set(struct web_conn *conn, size_t min)
{
	int v = (int)min;

	if (setsockopt(conn->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)))
		debug("web: SO_RCVLOWAT %d: %m\n", v, errno);
}


/* Keep lws's own poll off the socket (or let it back on) */
static void rx_hold(struct web_conn *conn, bool hold)
{
	if (conn->rx_held == hold)
		return;

	conn->rx_held = hold;
	(void)lws_rx_flow_control(conn->wsi, hold ? 0 : 1);
}


/* The request is lws's from here */
static int hand_over(struct web_conn *conn)
{
	rx_hold(conn, false);

	if (conn->peek_len)
		lowat_set(conn, 1);

	conn->peek = false;
	conn->peek_len = 0;

	return 0;
}


/* Answer a malformed head and close: lws has read nothing of it */
static void refuse(struct web_conn *conn, bool http, size_t len,
		   const struct sp_err *e)
{
	struct web *web = conn->web;
	char buf[512];
	uint32_t held;
	int n;

	n = web_head_error(buf, sizeof(buf), e);
	if (n > 0)
		(void)send(conn->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);

	/* what the client sent is read, so that the close is a FIN */
	(void)web_limit_drain(conn->fd);

	/* the FIN now: on the TLS port lws may close a connection whose
	   handshake never began only at its next timeout (seconds) */
	(void)shutdown(conn->fd, SHUT_RDWR);

	if (web_ratelog_due(&web->garbage_log, &held)) {
		if (http)
			info("web: %J: a malformed request head: %u (%s)"
			     " [%u more since the last such line]\n",
			     &conn->peer, e->status, e->msg, held);
		else
			info("web: %J: %zu bytes that are no HTTP request:"
			     " %u [%u more since the last such line]\n",
			     &conn->peer, len, e->status, held);
	}

	/* WSI_DESTROY frees conn: the caller holds a reference */
	lws_set_timeout(conn->wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE,
			LWS_TO_KILL_SYNC);
}


/**
 * The socket is readable: may lws read it now?
 *
 * @param conn  Connection (its caller holds a reference: this may close
 *              it, and conn->wsi is NULL then)
 *
 * @return 0 if lws may read, EAGAIN to leave the bytes in the socket
 *         for now, ECONNRESET if the request was answered here and the
 *         connection closed
 */
int web_peek(struct web_conn *conn)
{
	uint8_t buf[WEB_HEAD_DATA];
	enum web_head_res r;
	struct sp_err e;
	size_t len;
	ssize_t n;

	if (!conn->peek)
		return 0;

	/* a reply still partly in lws would be overtaken by an answer sent
	   here */
	if (lws_partial_buffered(conn->wsi))
		return hand_over(conn);

	/* lws holds a kept-alive connection until it is writable, and reads
	   nothing before: that is served first (conn_fd_handler()), then
	   what is still all in the socket is peeked at */
	if (conn->rearm)
		return EAGAIN;

	/* bytes lws holds (of some connection) may be this request's start */
	if (conn->served && !lws_service_adjust_timeout(conn->web->ctx, 1, 0))
		return hand_over(conn);

	n = recv(conn->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return EAGAIN;
	if (n <= 0)
		return hand_over(conn);  /* the close, an error: lws's */

	/* on the TLS port, lws takes a first byte below ' ' for TLS (every
	   record type is), and the rest for plain HTTP: a TLS connection
	   is lws's to decrypt, and so are its requests */
	if (lws_is_ssl(conn->wsi) && buf[0] < ' ')
		return hand_over(conn);

	/* readable with no more bytes: the client closed mid-head */
	if ((size_t)n <= conn->peek_len) {
		lws_set_timeout(conn->wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE,
				LWS_TO_KILL_SYNC);
		return ECONNRESET;
	}

	r = web_head_check(buf, n, &head_lim, &len, &e);
	switch (r) {

	case WEB_HEAD_OK:
		return hand_over(conn);

	case WEB_HEAD_MORE:
		conn->peek_len = n;
		lowat_set(conn, n + 1);
		return EAGAIN;

	default:
		refuse(conn, r == WEB_HEAD_BAD, n, &e);
		return ECONNRESET;
	}
}


/**
 * A reply is out and the connection is kept: its next request head is
 * due (a plain connection's only)
 */
void web_peek_arm(struct web_conn *conn)
{
	conn->served = true;
	conn->peek = !lws_is_ssl(conn->wsi);
	conn->peek_len = 0;
}


/** A new connection: its first request head is due (TLS or not) */
void web_peek_start(struct web_conn *conn)
{
	conn->peek = true;
	rx_hold(conn, true);
}
