/**
 * @file web.c  HTTP and WebSocket server: libwebsockets 4.1 driven by
 *              libre's main loop
 *
 * Debian's libwebsockets is built without LWS_WITH_EXTERNAL_POLL, so lws
 * cannot tell us which sockets it wants polled. We own the sockets instead:
 *
 *  - we listen and accept(), then hand each connection to lws with
 *    lws_adopt_descriptor_vhost_via_info() and fd_listen() it ourselves;
 *  - socket events go to lws_service_fd() with the matching revents;
 *  - we ask for FD_WRITE while something is waiting to be written or lws
 *    holds a partial write, so data leaves as soon as the socket takes it;
 *  - a periodic timer runs lws_service(ctx, -1) (a zero-timeout poll of
 *    lws's own table) for lws's internal timeouts and any write lws wants
 *    on its own (a close handshake, say). lws_service() is never called
 *    from inside an lws callback.
 *
 * With a certificate (web_prm.tls_cert) the same port speaks HTTPS and
 * WSS: connections are adopted with LWS_ADOPT_ALLOW_SSL and lws runs the
 * handshake inside lws_service_fd(). The handshake is driven by POLLIN;
 * should OpenSSL wait to write, FD_WRITE is asked for too (see
 * web_tls_wants_write()). Decrypted bytes OpenSSL still holds are served
 * by the forced service below.
 *
 * HTTP is in web_http.c (plain HTTP on the TLS port in web_plain.c,
 * each request head checked before lws reads it in web_peek.c),
 * WebSocket in web_ws.c, TLS in web_tls.c, who gets in (caps on
 * connections, accept() paused without descriptors) in web_limit.c;
 * this file is the glue.
 *
 * Threads: everything here runs on the libre main thread only.
 */

#define _GNU_SOURCE 1  /* accept4() */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "sipphone.h"
#include "webpriv.h"


enum {
	SERVICE_INTERVAL_MS = 100,  /* lws internal timers, idle timeouts */
	LISTEN_BACKLOG = 64,
	SNDBUF = 65536,             /* a slow reader is seen in seconds   */
	RX_CHUNK = 16384,           /* WebSocket bytes per receive cb     */
	POLLOUT_NOW_MAX = 4,        /* POLLOUTs served without epoll      */
};


static void conn_destructor(void *arg)
{
	struct web_conn *conn = arg;

	list_unlink(&conn->le);
	web_limit_untrack(conn);
	tmr_cancel(&conn->tmr_idle);
	web_http_reset(conn);
	web_ws_reset(conn);
	mem_deref(conn->reqbuf);
	mem_deref(conn->rep.mb);
}


/* The fd interest follows what lws and we still have to write. */
static void conn_update_fd(struct web_conn *conn);


static void service_now_handler(void *arg)
{
	struct web *web = arg;

	lws_service(web->ctx, -1);
}


static void conn_fd_handler(int flags, void *arg)
{
	struct web_conn *conn = arg;
	struct web *web = conn->web;
	struct lws_pollfd pfd;
	int i;

	/* lws may destroy the connection while servicing it, and so may
	   web_peek() */
	mem_ref(conn);
	conn->in_service = true;

	pfd.fd = conn->fd;
	pfd.events = LWS_POLLIN | LWS_POLLOUT;
	pfd.revents = 0;

	/* a request head due is read by us first: lws reads it only once
	   it is whole and well-formed */
	if ((flags & FD_READ) && !web_peek(conn)) {
		pfd.revents |= LWS_POLLIN;
		tmr_cancel(&conn->tmr_idle);  /* lws times a request */
	}
	if (!conn->wsi)
		goto out;  /* answered and closed by web_peek() */

	if (flags & FD_WRITE) {
		pfd.revents |= LWS_POLLOUT;
		conn->rearm = false;  /* the POLLOUT lws waits for */
	}
	if (flags & FD_EXCEPT)
		pfd.revents |= LWS_POLLHUP;

	if (pfd.revents)
		lws_service_fd(web->ctx, &pfd);

	/*
	 * A reply this service queued, or the POLLOUT lws parks a kept-
	 * alive connection on, is served now rather than after a trip
	 * through epoll: a socket with nothing buffered in lws is taken to
	 * be writable. If it is not, lws keeps what the socket refused as
	 * a partial and we wait for FD_WRITE. Bounded, so that one client
	 * cannot hold the loop.
	 */
	for (i = 0; i < POLLOUT_NOW_MAX && conn->wsi &&
		     (conn->wantw || conn->rearm) &&
		     !lws_partial_buffered(conn->wsi); i++) {
		conn->rearm = false;
		pfd.revents = LWS_POLLOUT;
		lws_service_fd(web->ctx, &pfd);
	}

	if (conn->wsi)
		conn_update_fd(conn);

 out:
	conn->in_service = false;
	mem_deref(conn);

	/* TLS may hold decrypted bytes that no poll will report */
	if (lws_service_adjust_timeout(web->ctx, 1, 0) == 0)
		tmr_start(&web->tmr_now, 0, service_now_handler, web);
}


static void conn_update_fd(struct web_conn *conn)
{
	int flags = FD_READ;

	if (conn->wantw || conn->rearm || lws_partial_buffered(conn->wsi) ||
	    web_tls_wants_write(conn))
		flags |= FD_WRITE;

	/* libre's epoll backend makes two syscalls of each fd_listen() */
	if (flags == conn->fd_flags)
		return;

	if (fd_listen(conn->fd, flags, conn_fd_handler, conn)) {
		warning("web: fd_listen %d failed\n", conn->fd);
		return;
	}

	conn->fd_flags = flags;
}


static void service_handler(void *arg)
{
	struct web *web = arg;

	tmr_start(&web->tmr_service, SERVICE_INTERVAL_MS,
		  service_handler, web);

	lws_service(web->ctx, -1);
}


static void idle_handler(void *arg)
{
	struct web_conn *conn = arg;

	if (!conn->wsi)
		return;

	/* as lws closes on its own keep-alive timeout; WSI_DESTROY frees
	   conn, which this timer may not touch afterwards */
	lws_set_timeout(conn->wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE,
			LWS_TO_KILL_SYNC);
}


/**
 * A reply went out and the connection is kept alive: it waits
 * WEB_IDLE_S for its next request, timed by us, not by lws.
 *
 * lws 4.1 would set its keep-alive timeout here: an insertion into one
 * list of every connection's timeouts, sorted by expiry and walked from
 * the earliest, so the newest (the latest) walks past all the others:
 * a cost per request that grows with the number of connections (10% of
 * the server's CPU at 200 of them). Removed at once, lws's list holds
 * only the few connections inside a request; libre's timer list takes
 * the newest from its tail.
 */
void web_conn_idle(struct web_conn *conn)
{
	lws_set_timeout(conn->wsi, NO_PENDING_TIMEOUT, 0);
	tmr_start(&conn->tmr_idle, WEB_IDLE_S * 1000, idle_handler, conn);
}


/** Ask for a writable callback on the connection */
void web_conn_want_write(struct web_conn *conn)
{
	if (!conn->wsi)
		return;

	conn->wantw = true;
	lws_callback_on_writable(conn->wsi);

	/* conn_fd_handler() sets the fd interest when its service ends */
	if (!conn->in_service)
		conn_update_fd(conn);
}


static int on_destroy(struct lws *wsi)
{
	struct web_conn *conn = lws_get_opaque_user_data(wsi);

	if (!conn)
		return 0;

	/* a socket lws closed without a CLOSED callback is closed too */
	web_ws_closed(conn);

	lws_set_opaque_user_data(wsi, NULL);
	fd_close(conn->fd);
	conn->wsi = NULL;
	mem_deref(conn);

	return 0;
}


static int lws_callback(struct lws *wsi, enum lws_callback_reasons reason,
			void *user, void *in, size_t len)
{
	struct web_conn *conn = wsi ? lws_get_opaque_user_data(wsi) : NULL;

	switch (reason) {

	case LWS_CALLBACK_HTTP:
		return conn ? web_http_request(conn, in) : -1;

	case LWS_CALLBACK_HTTP_BODY:
		return conn ? web_http_body(conn, in, len) : -1;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return conn ? web_http_complete(conn) : -1;

	case LWS_CALLBACK_HTTP_WRITEABLE:
		return conn ? web_http_writeable(conn) : -1;

	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return conn ? web_ws_confirm(conn, in) : -1;

	case LWS_CALLBACK_ESTABLISHED:
		return conn ? web_ws_established(conn) : -1;

	case LWS_CALLBACK_RECEIVE:
		return conn ? web_ws_receive(conn, in, len) : -1;

	case LWS_CALLBACK_SERVER_WRITEABLE:
		return conn ? web_ws_writeable(conn) : -1;

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (conn && len >= 2)
			conn->ws.peer_code = (uint16_t)(((uint8_t *)in)[0] << 8 |
						      ((uint8_t *)in)[1]);
		return 0;

	case LWS_CALLBACK_CLOSED:
		if (conn)
			web_ws_closed(conn);
		return 0;

	case LWS_CALLBACK_WSI_DESTROY:
		return on_destroy(wsi);

	/* lws's HTTP parser met bytes that are no request and handed the
	   connection over as a raw socket (vhost fallback) */
	case LWS_CALLBACK_RAW_ADOPT:
		return 0;

	case LWS_CALLBACK_RAW_RX:
		return conn ? web_http_not_http(conn, in, len) : -1;

	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		return web_tls_ctx_setup(user) ? -1 : 0;

	default:
		break;
	}

	return lws_callback_http_dummy(wsi, reason, user, in, len);
}


static void accept_handler(int flags, void *arg)
{
	struct web *web = arg;
	(void)flags;

	for (;;) {
		struct web_conn *conn;
		lws_adopt_desc_t ad;
		struct sockaddr_storage ss;
		socklen_t slen = sizeof(ss);
		struct sa peer;
		int fd;

		fd = accept4(web->lfd, (struct sockaddr *)&ss, &slen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    web_limit_accept_failed(web, errno))
				return;
			continue;
		}

		(void)sa_set_sa(&peer, (struct sockaddr *)&ss);
		if (web_limit_admit(web, fd, &peer))
			continue;

		conn = mem_zalloc(sizeof(*conn), conn_destructor);
		if (!conn) {
			close(fd);
			continue;
		}

		/* the kernel must not hide a client that stopped reading */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){SNDBUF},
				 sizeof(int));

		/* a reply may leave in more than one send (a head, then
		   the body): Nagle would hold the second until the
		   client's delayed ACK, 40 ms later */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1},
				 sizeof(int));
		conn->web = web;
		conn->fd = fd;
		conn->peer = peer;
		list_append(&web->connl, &conn->le, conn);
		web_limit_track(conn);

		memset(&ad, 0, sizeof(ad));
		ad.vh = web->vh;
		ad.type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP;
		if (web->tls)
			ad.type |= LWS_ADOPT_ALLOW_SSL;
		ad.fd.sockfd = fd;
		ad.opaque = conn;

		/* the connection now belongs to lws: on failure lws closes
		   the socket, and WSI_DESTROY (if it ran) freed conn */
		mem_ref(conn);
		conn->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
		if (conn->wsi) {
			web_peek_start(conn);
			conn_update_fd(conn);
		}
		else if (mem_nrefs(conn) > 1)
			mem_deref(conn);
		mem_deref(conn);
	}
}


/** Watch the listening socket (again) */
int web_listen(struct web *web)
{
	int err;

	err = fd_listen(web->lfd, FD_READ, accept_handler, web);
	if (err)
		warning("web: listening socket: %m\n", err);

	return err;
}


static int listen_open(struct web *web)
{
	int one = 1;
	int err;

	web->lfd = socket(sa_af(&web->laddr),
			  SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (web->lfd < 0)
		return errno;

	(void)setsockopt(web->lfd, SOL_SOCKET, SO_REUSEADDR,
			 &one, sizeof(one));

	if (bind(web->lfd, &web->laddr.u.sa, web->laddr.len) < 0 ||
	    listen(web->lfd, LISTEN_BACKLOG) < 0) {
		err = errno;
		return err;
	}

	/* learn the real port when asked for port 0 */
	web->laddr.len = sizeof(web->laddr.u);
	if (getsockname(web->lfd, &web->laddr.u.sa, &web->laddr.len) < 0)
		return errno;

	return web_listen(web);
}


/* lws's own log lines go to baresip's log, at the matching level */
static void lws_log_emit(int level, const char *line)
{
	size_t len = strlen(line);

	/* lws ends its lines with a newline; baresip's log wants one too */
	if (level & LLL_ERR)
		errlog("web: lws: %b", line, len);
	else if (level & LLL_WARN)
		info("web: lws: %b", line, len);
	else
		debug("web: lws: %b", line, len);
}


static void web_destructor(void *arg)
{
	struct web *web = arg;

	tmr_cancel(&web->tmr_service);
	tmr_cancel(&web->tmr_now);
	tmr_cancel(&web->tmr_accept);

	if (web->lfd >= 0) {
		fd_close(web->lfd);
		close(web->lfd);
	}

	/* closes every connection; WSI_DESTROY frees each web_conn */
	if (web->ctx)
		lws_context_destroy(web->ctx);

	/* the connections' destructors took themselves out of it */
	mem_deref(web->addrh);
}


/**
 * Start the HTTP server
 *
 * @param webp  Returned server
 * @param prm   Listen address, limits, TLS certificate
 * @param reqh  Called with each complete request; must answer it with
 *              web_reply() exactly once
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int web_alloc(struct web **webp, const struct web_prm *prm,
	      web_req_h *reqh, void *arg)
{
	struct lws_context_creation_info info;
	struct web *web;
	int err = 0;

	if (!webp || !prm || !reqh)
		return EINVAL;

	web = mem_zalloc(sizeof(*web), web_destructor);
	if (!web)
		return ENOMEM;

	web->lfd = -1;
	web->laddr = prm->laddr;
	web->body_max = prm->body_max;
	web->tls = prm->tls_cert || prm->tls_key;
	web->tls_plain = prm->tls_plain;
	web->reqh = reqh;
	web->arg = arg;
	tmr_init(&web->tmr_service);
	tmr_init(&web->tmr_now);

	err = web_limit_init(web, prm);
	if (err)
		goto out;

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);

	if (web->tls) {
		err = web_tls_check(prm->tls_cert, prm->tls_key);
		if (err)
			goto out;
	}

	/* one protocol for HTTP and WebSocket: clients that ask for no
	   subprotocol, or for ours, land here */
	web->protov[0].name = "sipphone.v1";
	web->protov[0].callback = lws_callback;
	web->protov[0].rx_buffer_size = RX_CHUNK;

	memset(&info, 0, sizeof(info));
	/* a server whose sockets are adopted: lws makes a TLS vhost only
	   for a port it may serve, never for CONTEXT_PORT_NO_LISTEN */
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = web->protov;
	info.gid = -1;
	info.uid = -1;
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		LWS_SERVER_OPTION_VALIDATE_UTF8 |
		/* bytes that are no HTTP request come to RAW_RX, where
		   they get a 400, instead of lws's own 403 */
		LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG;
	info.listen_accept_role = "raw-skt";
	info.listen_accept_protocol = web->protov[0].name;
	info.max_http_header_data = WEB_HEAD_DATA;
	info.timeout_secs = 10;
	info.keepalive_timeout = WEB_IDLE_S;
	info.vhost_name = "sipphone";
	if (web->tls)
		web_tls_info(&info, prm);

	web->ctx = lws_create_context(&info);
	if (!web->ctx) {
		err = ENOMEM;
		goto out;
	}

	web->vh = lws_create_vhost(web->ctx, &info);
	if (!web->vh) {
		if (web->tls)
			warning("web: TLS with %s and %s failed (lws says why"
				" above)\n", prm->tls_cert, prm->tls_key);
		err = web->tls ? EPROTO : ENOMEM;
		goto out;
	}

	err = listen_open(web);
	if (err) {
		errlog("web: listen on %J: %m\n", &prm->laddr, err);
		goto out;
	}

	tmr_start(&web->tmr_service, SERVICE_INTERVAL_MS,
		  service_handler, web);

 out:
	if (err)
		mem_deref(web);
	else
		*webp = web;

	return err;
}


/** The address the server listens on (with the real port) */
const struct sa *web_laddr(const struct web *web)
{
	return web ? &web->laddr : NULL;
}


/** Does the server speak HTTPS and WSS? */
bool web_is_tls(const struct web *web)
{
	return web ? web->tls : false;
}


/** The client's address */
const struct sa *web_conn_peer(const struct web_conn *conn)
{
	return conn ? &conn->peer : NULL;
}


/**
 * Take WebSocket upgrades
 *
 * @param web  Server
 * @param wsh  Handlers (kept by reference), or NULL to refuse upgrades
 * @param arg  Handler argument
 */
void web_set_ws(struct web *web, const struct web_ws_handlers *wsh,
		void *arg)
{
	if (!web)
		return;

	web->wsh = wsh;
	web->wsarg = arg;
}


/** Attach the application's object to a connection */
void web_conn_set_arg(struct web_conn *conn, void *arg)
{
	if (conn)
		conn->ws.arg = arg;
}


/** The application's object of a connection */
void *web_conn_arg(const struct web_conn *conn)
{
	return conn ? conn->ws.arg : NULL;
}
