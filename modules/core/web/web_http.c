/**
 * @file web_http.c  HTTP/1.1 requests and replies on an lws connection
 *
 * A request is read into the connection's struct web_req (our own copies
 * of what we use: lws drops its header table after an upgrade), its body
 * (if it has one) collected up to the limit, then handed to the
 * application, which
 * answers with web_reply(). The reply is written in the connection's
 * writable callbacks: the head, then the body in chunks.
 *
 * Threads: main thread only.
 */

#include <errno.h>
#include <string.h>
#include "sipphone.h"
#include "webpriv.h"


enum {
	WRITE_CHUNK = 16384,        /* body bytes handed to lws at once   */
	HDRS_SPACE = 2048,          /* room for the response head         */
	REQBUF_SIZE = 512,          /* a request's strings, usually       */
	REQBUF_KEEP = 8192,         /* larger: freed after the request    */
	REPBUF_SIZE = 1024,         /* a reply's head extras and body ... */
	REPBUF_KEEP = 65536,        /* ... larger: freed after the reply  */
	BODY_SIZE = 256,            /* first room for a request body      */
};

static const size_t NONE = (size_t)-1;  /* a header that is absent */


static void reply_reset(struct web_reply_st *rep)
{
	/* a big reply's room is not kept for the next */
	if (rep->mb && rep->mb->size > REPBUF_KEEP)
		rep->mb = mem_deref(rep->mb);
	else if (rep->mb)
		mbuf_rewind(rep->mb);

	rep->status = 0;
	rep->has_ctype = false;
	rep->hdrs = rep->body = 0;
	rep->head_sent = false;
}


static void req_reset(struct web_conn *conn)
{
	struct web_req *req = &conn->req;

	req->met    = NULL;
	req->path   = NULL;
	req->query  = NULL;
	req->authz  = NULL;
	req->origin = NULL;
	req->host   = NULL;
	req->ctype  = NULL;
	req->body   = mem_deref(req->body);

	/* a big request's room is not kept for the next */
	if (conn->reqbuf && conn->reqbuf->size > REQBUF_KEEP)
		conn->reqbuf = mem_deref(conn->reqbuf);
	else if (conn->reqbuf)
		mbuf_rewind(conn->reqbuf);
}


/** Forget the request and reply of a connection */
void web_http_reset(struct web_conn *conn)
{
	req_reset(conn);
	reply_reset(&conn->rep);
	conn->busy = false;
	conn->body_done = false;
}


/* Room for len more bytes at the end of mb */
static int room(struct mbuf *mb, size_t len)
{
	if (mb->end + len <= mb->size)
		return 0;

	return mbuf_resize(mb, mb->end + len + REQBUF_SIZE);
}


/* Append a whole header (all fragments) and its NUL; *offp is where it
   starts, NONE if absent */
static int hdr_put(struct mbuf *mb, size_t *offp, struct lws *wsi,
		   enum lws_token_indexes tok)
{
	int len = lws_hdr_total_length(wsi, tok);
	int err;

	*offp = NONE;
	if (len <= 0)
		return 0;
	if (len > WEB_HDR_MAX)
		return EOVERFLOW;

	err = room(mb, len + 1);
	if (err)
		return err;

	if (lws_hdr_copy(wsi, (char *)mb->buf + mb->end, len + 1, tok) < 0)
		return EBADMSG;

	*offp = mb->end;
	mb->end += len + 1;

	return 0;
}


/* Append the query: lws splits it into decoded "name=value" fragments,
   joined again with '&' ("" if none) */
static int query_put(struct mbuf *mb, size_t *offp, struct lws *wsi)
{
	int len = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
	char *p, *stop;
	int i, n, err;

	len = max(len, 0);
	err = room(mb, len + 1);
	if (err)
		return err;

	*offp = mb->end;
	p = (char *)mb->buf + mb->end;
	stop = p + len + 1;
	*p = '\0';

	for (i = 0; len; i++) {
		char *dst = p + (i ? 1 : 0);

		n = lws_hdr_copy_fragment(wsi, dst, (int)min(stop - dst,
					  (ptrdiff_t)WEB_HDR_MAX),
					  WSI_TOKEN_HTTP_URI_ARGS, i);
		if (n < 0)
			break;
		if (i)
			*p = '&';
		p = dst + n;
	}

	mb->end = p + 1 - (char *)mb->buf;

	return 0;
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


static const char *str_at(const struct mbuf *mb, size_t off)
{
	return off == NONE ? NULL : (const char *)mb->buf + off;
}


/**
 * Read the request line and the headers we use into conn->req
 *
 * They are copied (lws drops its header table after an upgrade, and the
 * WebSocket's open handler still reads them), one after the other into
 * the connection's buffer, which is kept from one request to the next:
 * no allocation per request.
 *
 * @return 0 if success, ENOTSUP for an unknown method, otherwise errorcode
 */
int web_http_req_read(struct web_conn *conn, const char *path)
{
	struct lws *wsi = conn->wsi;
	struct web_req *req = &conn->req;
	size_t o_path, o_query, o_authz, o_origin, o_host, o_ctype;
	struct mbuf *mb;
	size_t plen;
	int err;

	web_http_reset(conn);

	req->conn = conn;
	req->met = req_method(wsi);
	if (!req->met)
		return ENOTSUP;

	if (!conn->reqbuf) {
		conn->reqbuf = mbuf_alloc(REQBUF_SIZE);
		if (!conn->reqbuf)
			return ENOMEM;
	}
	mb = conn->reqbuf;

	path = path ? path : "/";
	plen = strlen(path);
	err = room(mb, plen + 1);
	if (err)
		return err;
	o_path = mb->end;
	memcpy(mb->buf + mb->end, path, plen + 1);
	mb->end += plen + 1;

	err = query_put(mb, &o_query, wsi);
	if (err)
		return err;

	err = hdr_put(mb, &o_authz, wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (!err)
		err = hdr_put(mb, &o_origin, wsi, WSI_TOKEN_ORIGIN);
	if (!err)
		err = hdr_put(mb, &o_host, wsi, WSI_TOKEN_HOST);
	if (!err)
		err = hdr_put(mb, &o_ctype, wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
	if (err)
		return err == ENOMEM ? err : EBADMSG;

	/* the buffer has stopped moving: now point into it */
	req->path   = str_at(mb, o_path);
	req->query  = str_at(mb, o_query);
	req->authz  = str_at(mb, o_authz);
	req->origin = str_at(mb, o_origin);
	req->host   = str_at(mb, o_host);
	req->ctype  = str_at(mb, o_ctype);

	return 0;
}


/*
 * The status line and the framing headers of a reply. The status line
 * is ours: lws writes the request's HTTP version, which it has not read
 * yet when an upgrade is refused ("HTTP/1.0 401": Python's websockets
 * then reports a bad version instead of the 401), and 1.0 to a 1.0
 * client. We speak HTTP/1.1 (RFC 9110 6.2: a server sends its own
 * version) and say when the connection closes after the reply.
 */
static int head_put(struct web_conn *conn, uint16_t status,
		    const char *ctype, size_t blen, bool close,
		    unsigned char **p, unsigned char *end)
{
	struct lws *wsi = conn->wsi;
	int n;

	n = re_snprintf((char *)*p, end - *p, "HTTP/1.1 %u %s\r\n", status,
			web_head_reason(status));
	if (n < 0)
		return EOVERFLOW;
	*p += n;

	if (ctype && lws_add_http_header_by_token(wsi,
			WSI_TOKEN_HTTP_CONTENT_TYPE,
			(const unsigned char *)ctype, (int)strlen(ctype),
			p, end))
		return EOVERFLOW;

	if (lws_add_http_header_content_length(wsi, blen, p, end))
		return EOVERFLOW;

	if (close || conn->keep_hdr) {
		const char *c = close ? "close" : "keep-alive";

		if (lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
				(const unsigned char *)c, (int)strlen(c),
				p, end))
			return EOVERFLOW;
	}

	return 0;
}


/*
 * Will lws keep the connection after this request? As lws_http_action()
 * decides: HTTP/1.1 keeps it unless "Connection: close", 1.0 (or none)
 * closes it unless "Connection: keep-alive". The reply says so.
 */
static void persist_read(struct web_conn *conn)
{
	struct lws *wsi = conn->wsi;
	char ver[12], hdr[25];
	bool v11, keep;

	v11 = lws_hdr_copy(wsi, ver, sizeof(ver), WSI_TOKEN_HTTP) > 7 &&
		ver[5] == '1' && ver[7] == '1';
	keep = v11;

	/* lws compares the whole value, and reads at most 24 bytes */
	if (lws_hdr_copy(wsi, hdr, sizeof(hdr) - 1, WSI_TOKEN_CONNECTION) > 0) {
		if (!str_casecmp(hdr, "keep-alive"))
			keep = true;
		else if (!str_casecmp(hdr, "close"))
			keep = false;
	}

	if (!keep)
		conn->close_after = true;
	conn->keep_hdr = keep && !v11;
}


/* Hand a complete request to the application */
static void dispatch(struct web_conn *conn)
{
	conn->busy = true;
	conn->web->reqh(&conn->req, conn->web->arg);
}


/* A transport-level error we answer ourselves, closing afterwards */
static void conn_fail_err(struct web_conn *conn, const struct sp_err *e)
{
	conn->busy = true;
	conn->close_after = true;
	(void)web_reply(conn, e->status, NULL, "application/json", "%H",
			sp_err_print, e);
}


static void conn_fail(struct web_conn *conn, uint16_t status,
		      const char *code, const char *msg)
{
	struct sp_err e;

	sp_err_set(&e, status, code, "%s", msg);
	conn_fail_err(conn, &e);
}


/* The request's version: HTTP/1.x, or answered here */
static bool version_ok(struct web_conn *conn)
{
	char ver[12];
	struct sp_err e;

	if (lws_hdr_copy(conn->wsi, ver, sizeof(ver), WSI_TOKEN_HTTP) < 0)
		ver[0] = '\0';

	if (!web_head_version(ver, &e))
		return true;

	conn_fail_err(conn, &e);

	return false;
}


/** LWS_CALLBACK_HTTP: a request line and headers arrived */
int web_http_request(struct web_conn *conn, const char *path)
{
	struct lws *wsi = conn->wsi;
	struct sp_err e;
	char clen[32];
	size_t n;
	int plain, err;

	/* lws read this head: the next one is due after the reply */
	conn->peek = false;

	err = web_http_req_read(conn, path);
	persist_read(conn);
	if (!version_ok(conn))
		return 0;
	if (err == ENOTSUP) {
		conn_fail(conn, 405, "method_not_allowed",
			  "HTTP method not supported");
		return 0;
	}
	if (err == ENOMEM)
		return -1;
	if (err) {
		conn_fail(conn, 400, "bad_request",
			  "a request header could not be read");
		return 0;
	}

	/* plain HTTP on the TLS port: refused, redirected or served */
	plain = web_http_plain(conn, false);
	if (plain)
		return plain > 0 ? 0 : -1;

	/* lws 4.1 never completes a chunked request body; with a length
	   too, which of the two frames the body is a guess (RFC 9112 6.1) */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
		conn_fail(conn, 411, "length_required",
			  "send the body with a Content-Length");
		return 0;
	}

	/*
	 * No length and no chunking means no body (RFC 9112 6.3), but lws
	 * 4.1 takes up to 100 MB after a POST, PUT or PATCH without one for
	 * its body: the connection's next request would be read as that.
	 * So the connection closes after the reply.
	 */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
		if (!str_cmp(conn->req.met, "POST") ||
		    !str_cmp(conn->req.met, "PUT") ||
		    !str_cmp(conn->req.met, "PATCH"))
			conn->close_after = true;
		dispatch(conn);
		return 0;
	}

	if (lws_hdr_copy(wsi, clen, sizeof(clen),
			 WSI_TOKEN_HTTP_CONTENT_LENGTH) < 0)
		clen[0] = '\0';  /* longer than any number we take */

	if (web_head_clen(clen, conn->web->body_max, &n, &e)) {
		conn_fail_err(conn, &e);
		return 0;
	}

	if (!n) {
		dispatch(conn);
		return 0;
	}

	/* the body follows */
	conn->req.body = mbuf_alloc(min(n, (size_t)BODY_SIZE));

	return conn->req.body ? 0 : -1;
}


/**
 * LWS_CALLBACK_RAW_RX: lws's HTTP parser met bytes that are no request
 * it knows and gave the connection up as a raw socket: 400 (501 for a
 * request line with an unknown method), then closed
 *
 * @param conn  Connection
 * @param in    The bytes of the first read, NULL if none
 * @param len   Their length
 *
 * @return -1: close the connection
 */
int web_http_not_http(struct web_conn *conn, const uint8_t *in, size_t len)
{
	uint8_t buf[LWS_PRE + 512];
	char *p = (char *)buf + LWS_PRE;
	uint32_t held;
	struct sp_err e;
	int n;

	web_head_not_http(in, len, conn->web->tls, &e);

	if (web_ratelog_due(&conn->web->garbage_log, &held))
		info("web: %J: %zu bytes that are no HTTP request: %u"
		     " [%u more since the last such line]\n", &conn->peer,
		     len, e.status, held);

	n = web_head_error(p, sizeof(buf) - LWS_PRE, &e);
	if (n > 0)
		(void)lws_write(conn->wsi, (unsigned char *)p, n,
				LWS_WRITE_RAW);

	return -1;
}


/** LWS_CALLBACK_HTTP_BODY: a piece of the body */
int web_http_body(struct web_conn *conn, const void *in, size_t len)
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


/**
 * LWS_CALLBACK_HTTP_BODY_COMPLETION: the whole body is in
 *
 * lws 4.1 completes a body twice in one case only: a request with a body
 * that it had already read with the one before (a pipelined one, out of
 * its buffer). lws_http_action() then reads that buffer again as the
 * body, from the request's own first byte, and completes it; once the
 * body is counted, it finds the buffer unread and loops on it forever, a
 * busy loop that stops the whole service. Closing the connection ends
 * that loop; the client retries on a new connection, as it must retry a
 * pipelined request the server did not answer (RFC 9112 9.3.2). The
 * first completion dispatched the request with those wrong bytes for a
 * body: a request's head is never JSON, so every JSON route refuses it.
 *
 * @return 0, or -1 to close the connection
 */
int web_http_complete(struct web_conn *conn)
{
	if (conn->body_done) {
		debug("web: %J: a pipelined request with a body: closing\n",
		      &conn->peer);
		return -1;
	}

	conn->body_done = true;
	if (!conn->busy)
		dispatch(conn);

	return 0;
}


/*
 * Our "Name: value\r\n" lines into lws's head as they are: on HTTP/1.1
 * (we serve nothing else) this is what lws_add_http_header_by_name()
 * writes for each, without taking them apart first
 */
static int add_hdr_lines(const uint8_t *lines, size_t len,
			 unsigned char **p, unsigned char *end)
{
	if (!len)
		return 0;

	if (len + 2 > (size_t)(end - *p))  /* room for the closing CRLF */
		return EOVERFLOW;

	memcpy(*p, lines, len);
	*p += len;

	return 0;
}


/** Write a whole short reply now, from inside an lws callback */
int web_http_write_now(struct web_conn *conn, uint16_t status,
		       const char *hdrs, const char *body)
{
	struct lws *wsi = conn->wsi;
	uint8_t head[LWS_PRE + HDRS_SPACE], *b;
	unsigned char *start = head + LWS_PRE, *p = start;
	unsigned char *end = head + sizeof(head) - 1;
	size_t blen = strlen(body);
	int err = 0;

	/* lws closes the connection after a refused upgrade */
	if (head_put(conn, status, "application/json", blen, true, &p, end) ||
	    add_hdr_lines((const uint8_t *)hdrs, str_len(hdrs), &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return EPROTO;

	b = mem_alloc(LWS_PRE + blen, NULL);
	if (!b)
		return ENOMEM;

	memcpy(b + LWS_PRE, body, blen);
	if (lws_write(wsi, b + LWS_PRE, blen, LWS_WRITE_HTTP_FINAL) !=
	    (int)blen)
		err = EPIPE;
	mem_deref(b);

	return err;
}


/** LWS_CALLBACK_HTTP_WRITEABLE: write the reply head or body chunk */
int web_http_writeable(struct web_conn *conn)
{
	struct lws *wsi = conn->wsi;
	struct web_reply_st *rep = &conn->rep;
	uint8_t buf[LWS_PRE + WRITE_CHUNK];
	struct mbuf *mb;
	size_t left, n;
	bool final;

	conn->wantw = false;
	if (!rep->status)
		return 0;  /* a spurious writable: nothing queued */

	mb = rep->mb;

	if (!rep->head_sent) {
		uint8_t head[LWS_PRE + HDRS_SPACE];
		unsigned char *start = head + LWS_PRE, *p = start;
		unsigned char *end = head + sizeof(head) - 1;
		const char *ctype = rep->has_ctype ? (char *)mb->buf : NULL;
		size_t blen = mb ? mb->end - rep->body : 0;
		bool head_only = !str_cmp(conn->req.met, "HEAD");

		if (head_put(conn, rep->status, ctype, blen,
			     conn->close_after, &p, end))
			return -1;
		if (mb && add_hdr_lines(mb->buf + rep->hdrs,
					rep->body - rep->hdrs, &p, end))
			return -1;
		if (lws_finalize_http_header(wsi, &p, end))
			return -1;

		rep->head_sent = true;

		/* HEAD: the length the body would have, and no body (RFC
		   9110 9.3.2); HTTP/1.1: a body that fits leaves with the
		   head, in one send (lws counts body bytes against
		   Content-Length only on h2, which we do not serve) */
		if (head_only) {
			blen = 0;
		}
		else if (blen <= (size_t)(end - p)) {
			if (blen)
				memcpy(p, mb->buf + rep->body, blen);
			p += blen;
		}
		else {
			blen = 0;  /* the body follows in WRITE_CHUNKs */
		}

		if (lws_write(wsi, start, p - start, LWS_WRITE_HTTP_HEADERS)
		    != p - start)
			return -1;

		if (head_only || blen || !mb || mb->end == rep->body)
			goto done;

		mb->pos = rep->body;
		web_conn_want_write(conn);
		return 0;
	}

	left = mbuf_get_left(mb);
	n = min(left, (size_t)WRITE_CHUNK);
	final = (n == left);
	memcpy(buf + LWS_PRE, mbuf_buf(mb), n);
	if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL
					       : LWS_WRITE_HTTP) != (int)n)
		return -1;
	mbuf_advance(mb, n);

	if (!final) {
		web_conn_want_write(conn);
		return 0;
	}

 done:
	web_http_reset(conn);

	if (conn->close_after)
		return -1;

	/* keep-alive: lws tells us when the connection must go */
	if (lws_http_transaction_completed(wsi))
		return -1;

	web_conn_idle(conn);

	/*
	 * lws 4.1 now holds the connection in LRS_DEFERRING_ACTION and
	 * reads no further request from it until it is serviced with
	 * POLLOUT; without one the next request waits for the periodic
	 * lws_service(), up to SERVICE_INTERVAL_MS.
	 */
	conn->rearm = true;
	web_peek_arm(conn);

	return 0;
}


/**
 * Answer the request waiting on a connection
 *
 * @param conn    Connection
 * @param status  HTTP status code
 * @param hdrs    Extra header lines, each "Name: value\r\n" (sent as
 *                they are), or NULL
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
	struct web_reply_st *rep;
	struct mbuf *mb;
	int err = 0;

	if (!conn || !status)
		return EINVAL;

	if (!conn->wsi)
		return ENOTCONN;

	rep = &conn->rep;
	if (rep->status)
		return EALREADY;

	rep->status = status;

	if (!rep->mb) {
		rep->mb = mbuf_alloc(REPBUF_SIZE);
		if (!rep->mb) {
			err = ENOMEM;
			goto out;
		}
	}
	mb = rep->mb;

	if (ctype) {
		err = mbuf_write_mem(mb, (const uint8_t *)ctype,
				     strlen(ctype) + 1);
		rep->has_ctype = true;
	}

	rep->hdrs = mb->end;
	if (!err && hdrs)
		err = mbuf_write_str(mb, hdrs);

	rep->body = mb->end;
	if (!err && fmt)
		err = mbuf_vprintf(mb, fmt, ap);

 out:
	if (err) {
		reply_reset(rep);
		conn->close_after = true;
		rep->status = 500;
	}

	web_conn_want_write(conn);

	return err;
}
