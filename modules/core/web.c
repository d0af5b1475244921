/**
 * @file web.c  HTTP server: libwebsockets 4.1 driven by libre's main loop
 *
 * Debian's libwebsockets is built without LWS_WITH_EXTERNAL_POLL, so lws
 * cannot tell us which sockets it wants polled. We own the sockets instead:
 *
 *  - we listen and accept(), then hand each connection to lws with
 *    lws_adopt_descriptor_vhost_via_info() and fd_listen() it ourselves;
 *  - socket events go to lws_service_fd() with the matching revents;
 *  - we ask for FD_WRITE while a reply is waiting or lws holds a partial
 *    write, so replies leave as soon as the socket takes them;
 *  - a periodic timer runs lws_service(ctx, -1) (a zero-timeout poll of
 *    lws's own table) for lws's internal timeouts and any write lws wants
 *    on its own (a close handshake, say). lws_service() is never called
 *    from inside an lws callback.
 *
 * Threads: everything here runs on the libre main thread only.
 */

#define _GNU_SOURCE 1  /* accept4() */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <libwebsockets.h>
#include "sipphone.h"


enum {
	SERVICE_INTERVAL_MS = 100,  /* lws internal timers, idle timeouts */
	HDR_MAX = 4096,             /* longest header value we copy       */
	WRITE_CHUNK = 16384,        /* body bytes handed to lws at once   */
	HDRS_SPACE = 2048,          /* room for the response head         */
	LISTEN_BACKLOG = 64,
};


/** The server. Owned by the main thread. */
struct web {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct lws_protocols protov[2];
	struct list connl;          /* struct web_conn, live connections */
	struct tmr tmr_service;     /* periodic lws_service()            */
	struct tmr tmr_now;         /* lws asked for forced service      */
	struct sa laddr;
	int lfd;                    /* our listening socket              */
	size_t body_max;
	web_req_h *reqh;
	void *arg;
};


/** The reply waiting to be written. */
struct reply {
	uint16_t status;
	char *ctype;
	struct mbuf *hdrs;          /* "name: value\r\n" lines           */
	struct mbuf *body;
	bool head_sent;
};


/**
 * One client connection. Its lifetime follows the lws wsi: created on
 * accept, freed on LWS_CALLBACK_WSI_DESTROY. Main thread only.
 */
struct web_conn {
	struct le le;
	struct web *web;
	struct lws *wsi;            /* NULL once lws destroyed it        */
	int fd;
	bool wantw;                 /* we asked lws for a writable cb    */
	bool close_after;           /* close once the reply is out       */
	bool busy;                  /* a request is being answered       */
	struct web_req req;
	struct reply rep;
	struct sa peer;
};


static void reply_reset(struct reply *rep)
{
	rep->ctype = mem_deref(rep->ctype);
	rep->hdrs  = mem_deref(rep->hdrs);
	rep->body  = mem_deref(rep->body);
	rep->status = 0;
	rep->head_sent = false;
}


static void req_reset(struct web_req *req)
{
	req->met    = NULL;
	req->path   = mem_deref(req->path);
	req->query  = mem_deref(req->query);
	req->authz  = mem_deref(req->authz);
	req->origin = mem_deref(req->origin);
	req->host   = mem_deref(req->host);
	req->ctype  = mem_deref(req->ctype);
	req->body   = mem_deref(req->body);
}


static void conn_destructor(void *arg)
{
	struct web_conn *conn = arg;

	list_unlink(&conn->le);
	req_reset(&conn->req);
	reply_reset(&conn->rep);
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

	pfd.fd = conn->fd;
	pfd.events = LWS_POLLIN | LWS_POLLOUT;
	pfd.revents = 0;
	if (flags & FD_READ)
		pfd.revents |= LWS_POLLIN;
	if (flags & FD_WRITE)
		pfd.revents |= LWS_POLLOUT;
	if (flags & FD_EXCEPT)
		pfd.revents |= LWS_POLLHUP;

	/* lws may destroy the connection while servicing it */
	mem_ref(conn);
	lws_service_fd(web->ctx, &pfd);
	if (conn->wsi)
		conn_update_fd(conn);
	mem_deref(conn);

	/* TLS may hold decrypted bytes that no poll will report */
	if (lws_service_adjust_timeout(web->ctx, 1, 0) == 0)
		tmr_start(&web->tmr_now, 0, service_now_handler, web);
}


static void conn_update_fd(struct web_conn *conn)
{
	int flags = FD_READ;

	if (conn->wantw || lws_partial_buffered(conn->wsi))
		flags |= FD_WRITE;

	if (fd_listen(conn->fd, flags, conn_fd_handler, conn))
		warning("web: fd_listen %d failed\n", conn->fd);
}


static void service_handler(void *arg)
{
	struct web *web = arg;

	tmr_start(&web->tmr_service, SERVICE_INTERVAL_MS,
		  service_handler, web);

	lws_service(web->ctx, -1);
}


static void conn_want_write(struct web_conn *conn)
{
	conn->wantw = true;
	lws_callback_on_writable(conn->wsi);
	conn_update_fd(conn);
}


/* Copy a whole header (all fragments) into a new string, NULL if absent */
static int hdr_dup(char **dstp, struct lws *wsi, enum lws_token_indexes tok)
{
	int len = lws_hdr_total_length(wsi, tok);
	char *s;

	*dstp = NULL;
	if (len <= 0)
		return 0;
	if (len > HDR_MAX)
		return EOVERFLOW;

	s = mem_alloc(len + 1, NULL);
	if (!s)
		return ENOMEM;

	if (lws_hdr_copy(wsi, s, len + 1, tok) < 0) {
		mem_deref(s);
		return EBADMSG;
	}

	*dstp = s;
	return 0;
}


/* lws splits the query into decoded "name=value" fragments */
static int query_dup(char **dstp, struct lws *wsi)
{
	struct mbuf *mb;
	char frag[HDR_MAX];
	int i, err = 0;

	*dstp = NULL;
	mb = mbuf_alloc(64);
	if (!mb)
		return ENOMEM;

	for (i = 0; ; i++) {
		int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag),
					      WSI_TOKEN_HTTP_URI_ARGS, i);
		if (n < 0)
			break;
		err |= mbuf_printf(mb, "%s%s", i ? "&" : "", frag);
	}
	if (err)
		goto out;

	mb->pos = 0;
	err = mbuf_strdup(mb, dstp, mb->end);

 out:
	mem_deref(mb);
	return err;
}


static const char *req_method(struct lws *wsi)
{
	static const struct {
		enum lws_token_indexes tok;
		const char *name;
	} metv[] = {
		{WSI_TOKEN_GET_URI,     "GET"},
		{WSI_TOKEN_POST_URI,    "POST"},
		{WSI_TOKEN_DELETE_URI,  "DELETE"},
		{WSI_TOKEN_PUT_URI,     "PUT"},
		{WSI_TOKEN_PATCH_URI,   "PATCH"},
		{WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
		{WSI_TOKEN_HEAD_URI,    "HEAD"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(metv); i++) {
		if (lws_hdr_total_length(wsi, metv[i].tok) > 0)
			return metv[i].name;
	}

	return NULL;
}


/* Hand a complete request to the application. */
static void conn_dispatch(struct web_conn *conn)
{
	conn->busy = true;
	conn->web->reqh(&conn->req, conn->web->arg);
}


/* A transport-level error we answer ourselves, closing afterwards. */
static void conn_fail(struct web_conn *conn, uint16_t status,
		      const char *code, const char *msg)
{
	conn->busy = true;
	conn->close_after = true;
	(void)web_reply(conn, status, NULL, "application/json",
			"{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
			code, msg);
}


static int on_http(struct web_conn *conn, const char *path)
{
	struct lws *wsi = conn->wsi;
	struct web_req *req = &conn->req;
	char clen[32];
	int err;

	req_reset(&conn->req);
	reply_reset(&conn->rep);
	conn->busy = false;

	req->conn = conn;
	req->met = req_method(wsi);
	if (!req->met) {
		conn_fail(conn, 405, "method_not_allowed",
			  "HTTP method not supported");
		return 0;
	}

	err  = str_dup(&req->path, path ? path : "/");
	err |= query_dup(&req->query, wsi);
	err |= hdr_dup(&req->authz, wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	err |= hdr_dup(&req->origin, wsi, WSI_TOKEN_ORIGIN);
	err |= hdr_dup(&req->host, wsi, WSI_TOKEN_HOST);
	err |= hdr_dup(&req->ctype, wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
	if (err) {
		conn_fail(conn, 400, "bad_request",
			  "a request header could not be read");
		return 0;
	}

	req->body = mbuf_alloc(256);
	if (!req->body)
		return -1;

	if (lws_hdr_copy(wsi, clen, sizeof(clen),
			 WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(clen, &end, 10);
		if (errno || *end || end == clen) {
			conn_fail(conn, 400, "bad_request",
				  "Content-Length is not a number");
			return 0;
		}
		if (n > conn->web->body_max) {
			conn_fail(conn, 413, "body_too_large",
				  "request body exceeds the limit");
			return 0;
		}
		if (n > 0)
			return 0;  /* the body follows */
	}
	else if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING)
		 > 0) {
		/* lws 4.1 never completes a chunked request body */
		conn_fail(conn, 411, "length_required",
			  "send the body with a Content-Length");
		return 0;
	}
	/* else: no length and no chunking means no body (RFC 7230 3.3.3) */

	conn_dispatch(conn);
	return 0;
}


static int on_body(struct web_conn *conn, const void *in, size_t len)
{
	struct mbuf *body = conn->req.body;

	if (conn->busy || !body)
		return 0;

	if (body->end + len > conn->web->body_max) {
		conn_fail(conn, 413, "body_too_large",
			  "request body exceeds the limit");
		return 0;
	}

	return mbuf_write_mem(body, in, len) ? -1 : 0;
}


static int add_hdr_lines(struct lws *wsi, struct mbuf *hdrs,
			 unsigned char **p, unsigned char *end)
{
	struct pl rest, name, val;

	if (!hdrs)
		return 0;

	pl_set_mbuf(&rest, hdrs);
	while (rest.l) {
		char nm[64];
		struct pl line, next;

		if (re_regex(rest.p, rest.l, "[^\r]*\r\n", &line)) {
			return EBADMSG;
		}
		next.p = line.p + line.l + 2;
		next.l = rest.l - line.l - 2;

		if (re_regex(line.p, line.l, "[^:]+:[ ]*[^]*",
			     &name, NULL, &val))
			return EBADMSG;

		if (re_snprintf(nm, sizeof(nm), "%r:", &name) < 0)
			return ENOMEM;

		if (lws_add_http_header_by_name(wsi, (unsigned char *)nm,
						(const unsigned char *)val.p,
						(int)val.l, p, end))
			return ENOMEM;

		rest = next;
	}

	return 0;
}


static int on_writeable(struct web_conn *conn)
{
	struct lws *wsi = conn->wsi;
	struct reply *rep = &conn->rep;
	uint8_t buf[LWS_PRE + WRITE_CHUNK];
	size_t left, n;
	bool final;

	conn->wantw = false;
	if (!rep->status)
		return 0;  /* a spurious writable: nothing queued */

	if (!rep->head_sent) {
		uint8_t head[LWS_PRE + HDRS_SPACE];
		unsigned char *start = head + LWS_PRE, *p = start;
		unsigned char *end = head + sizeof(head) - 1;
		size_t blen = rep->body ? rep->body->end : 0;

		if (lws_add_http_common_headers(wsi, rep->status, rep->ctype,
						blen, &p, end))
			return -1;
		if (conn->close_after &&
		    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
				(const unsigned char *)"close", 5, &p, end))
			return -1;
		if (add_hdr_lines(wsi, rep->hdrs, &p, end))
			return -1;
		if (lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;

		rep->head_sent = true;

		if (!blen)
			goto done;

		/* lws wants the headers and the body in separate writes */
		conn_want_write(conn);
		return 0;
	}

	left = mbuf_get_left(rep->body);
	n = min(left, (size_t)WRITE_CHUNK);
	final = (n == left);
	memcpy(buf + LWS_PRE, mbuf_buf(rep->body), n);
	if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL
					       : LWS_WRITE_HTTP) != (int)n)
		return -1;
	mbuf_advance(rep->body, n);

	if (!final) {
		conn_want_write(conn);
		return 0;
	}

 done:
	reply_reset(rep);
	req_reset(&conn->req);
	conn->busy = false;

	if (conn->close_after)
		return -1;

	/* keep-alive: lws tells us when the connection must go */
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}


static int on_destroy(struct lws *wsi)
{
	struct web_conn *conn = lws_get_opaque_user_data(wsi);

	if (!conn)
		return 0;

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
	(void)user;

	switch (reason) {

	case LWS_CALLBACK_HTTP:
		return conn ? on_http(conn, in) : -1;

	case LWS_CALLBACK_HTTP_BODY:
		return conn ? on_body(conn, in, len) : -1;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (conn && !conn->busy)
			conn_dispatch(conn);
		return 0;

	case LWS_CALLBACK_HTTP_WRITEABLE:
		return conn ? on_writeable(conn) : -1;

	case LWS_CALLBACK_WSI_DESTROY:
		return on_destroy(wsi);

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
		int fd;

		fd = accept4(web->lfd, (struct sockaddr *)&ss, &slen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				warning("web: accept: %m\n", errno);
			return;
		}

		conn = mem_zalloc(sizeof(*conn), conn_destructor);
		if (!conn) {
			close(fd);
			continue;
		}
		conn->web = web;
		conn->fd = fd;
		(void)sa_set_sa(&conn->peer, (struct sockaddr *)&ss);
		list_append(&web->connl, &conn->le, conn);

		memset(&ad, 0, sizeof(ad));
		ad.vh = web->vh;
		ad.type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP;
		ad.fd.sockfd = fd;
		ad.opaque = conn;

		/* the connection now belongs to lws: on failure lws closes
		   the socket, and WSI_DESTROY (if it ran) freed conn */
		mem_ref(conn);
		conn->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
		if (conn->wsi)
			conn_update_fd(conn);
		else if (mem_nrefs(conn) > 1)
			mem_deref(conn);
		mem_deref(conn);
	}
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

	return fd_listen(web->lfd, FD_READ, accept_handler, web);
}


/* lws's own log lines go to baresip's log, at the matching level */
static void lws_log_emit(int level, const char *line)
{
	size_t len = strlen(line);

	/* lws ends its lines with a newline; baresip's log wants one too */
	if (level & LLL_ERR)
		warning("web: lws: %b", line, len);
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

	if (web->lfd >= 0) {
		fd_close(web->lfd);
		close(web->lfd);
	}

	/* closes every connection; WSI_DESTROY frees each web_conn */
	if (web->ctx)
		lws_context_destroy(web->ctx);
}


/**
 * Start the HTTP server
 *
 * @param webp  Returned server
 * @param prm   Listen address and limits
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
	web->reqh = reqh;
	web->arg = arg;
	tmr_init(&web->tmr_service);
	tmr_init(&web->tmr_now);

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);

	web->protov[0].name = "sipphone";
	web->protov[0].callback = lws_callback;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = web->protov;
	info.gid = -1;
	info.uid = -1;
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.timeout_secs = 10;
	info.keepalive_timeout = 30;
	info.vhost_name = "sipphone";

	web->ctx = lws_create_context(&info);
	if (!web->ctx) {
		err = ENOMEM;
		goto out;
	}

	web->vh = lws_create_vhost(web->ctx, &info);
	if (!web->vh) {
		err = ENOMEM;
		goto out;
	}

	err = listen_open(web);
	if (err) {
		warning("web: listen on %J: %m\n", &prm->laddr, err);
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


/** The client's address */
const struct sa *web_conn_peer(const struct web_conn *conn)
{
	return conn ? &conn->peer : NULL;
}


/**
 * Answer the request waiting on a connection
 *
 * @param conn    Connection
 * @param status  HTTP status code
 * @param hdrs    Extra header lines, each "Name: value\r\n", or NULL
 * @param ctype   Content type of the body, or NULL for no body
 * @param fmt     Body format string (libre's re_printf conversions)
 *
 * @return 0 if success, otherwise errorcode
 */
int web_reply(struct web_conn *conn, uint16_t status, const char *hdrs,
	      const char *ctype, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = web_vreply(conn, status, hdrs, ctype, fmt, ap);
	va_end(ap);

	return err;
}


/** web_reply() with a va_list */
int web_vreply(struct web_conn *conn, uint16_t status, const char *hdrs,
	       const char *ctype, const char *fmt, va_list ap)
{
	struct reply *rep;
	int err = 0;

	if (!conn || !status)
		return EINVAL;

	if (!conn->wsi)
		return ENOTCONN;

	rep = &conn->rep;
	if (rep->status)
		return EALREADY;

	rep->status = status;

	if (ctype)
		err = str_dup(&rep->ctype, ctype);

	if (!err && str_isset(hdrs)) {
		rep->hdrs = mbuf_alloc(strlen(hdrs));
		if (!rep->hdrs)
			err = ENOMEM;
		else
			err = mbuf_write_str(rep->hdrs, hdrs);
		if (rep->hdrs)
			rep->hdrs->pos = 0;
	}

	if (!err && fmt) {
		rep->body = mbuf_alloc(256);
		if (!rep->body)
			err = ENOMEM;
		else
			err = mbuf_vprintf(rep->body, fmt, ap);
		if (rep->body)
			rep->body->pos = 0;
	}

	if (err) {
		reply_reset(rep);
		conn->close_after = true;
		rep->status = 500;
	}

	conn_want_write(conn);

	return err;
}
