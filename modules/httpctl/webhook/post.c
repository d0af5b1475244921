/**
 * @file post.c  One webhook POST: resolve, connect, send, read the
 *                 answer's status line and headers
 *
 * Not libre's HTTP client, for two reasons found in libre 1.1.0 (the
 * version we are pinned to):
 *
 *  - its https is unverified: http_client_set_tls_hostname() hands
 *    tls_set_hostname() the NULL pointer it should fill and so always
 *    fails with EINVAL, and even a host name set would not make the
 *    handshake fail, as the client's TLS context never asks OpenSSL to
 *    verify the peer. An event could go to anyone on the path.
 *  - its own timeouts are 30 s to connect and 60 s to answer.
 *
 * Here every connection verifies the server's certificate chain against
 * the CA file and its name against the URL's host (tls_set_verify_server,
 * SSL_VERIFY_PEER), sends SNI, and one timer bounds the whole exchange.
 * One request per connection (Connection: close): a webhook is one POST
 * now and then, not a stream. The answer's body is not read: its status
 * and headers are all a delivery needs.
 *
 * Threads: main thread only.
 */

#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	RESP_HDR_MAX = 16384,  /* a status line and headers, at most */
	WHY_LEN = 128,
};

struct whpost {
	struct tmr tmr;        /* the deadline of the whole exchange  */
	struct dns_query *dq;
	struct tcp_conn *tc;
	struct tls_conn *sc;
	struct mbuf *req;      /* the request, ready to send          */
	struct mbuf *rx;       /* the answer so far                   */
	char *host;            /* to resolve, for SNI, to verify      */
	struct sa addr;
	uint16_t port;
	bool secure;
	bool estab;            /* connected (and the TLS handshake done) */
	uint32_t timeout_ms;
	struct tls *tls;
	whpost_h *h;
	void *arg;
	char why[WHY_LEN];
};


static void whpost_destructor(void *arg)
{
	struct whpost *wp = arg;

	tmr_cancel(&wp->tmr);
	mem_deref(wp->dq);
	mem_deref(wp->sc);
	mem_deref(wp->tc);
	mem_deref(wp->req);
	mem_deref(wp->rx);
	mem_deref(wp->host);
	mem_deref(wp->tls);
}


/* The one end of an exchange: the handler is called once */
static void complete(struct whpost *wp, int err, const struct http_msg *msg,
		     const char *fmt, ...)
{
	whpost_h *h = wp->h;
	va_list ap;

	wp->h = NULL;
	tmr_cancel(&wp->tmr);
	wp->dq = mem_deref(wp->dq);

	if (fmt) {
		va_start(ap, fmt);
		(void)re_vsnprintf(wp->why, sizeof(wp->why), fmt, ap);
		va_end(ap);
	}

	/* the handler may free wp: nothing of it is touched after */
	if (h)
		h(err, fmt ? wp->why : NULL, msg, wp->arg);
}


static void timeout_handler(void *arg)
{
	struct whpost *wp = arg;

	complete(wp, ETIMEDOUT, NULL, "no answer within %u s",
		 wp->timeout_ms / 1000);
}


static void estab_handler(void *arg)
{
	struct whpost *wp = arg;
	int err;

	wp->estab = true;

	err = tcp_send(wp->tc, wp->req);
	if (err)
		complete(wp, err, NULL, "could not send: %m", err);
}


static void recv_handler(struct mbuf *mb, void *arg)
{
	struct whpost *wp = arg;
	struct http_msg *msg = NULL;
	int err;

	wp->rx->pos = wp->rx->end;
	err = mbuf_write_mem(wp->rx, mbuf_buf(mb), mbuf_get_left(mb));
	if (err) {
		complete(wp, err, NULL, "out of memory");
		return;
	}
	wp->rx->pos = 0;

	err = http_msg_decode(&msg, wp->rx, false);
	if (err == ENODATA) {
		if (wp->rx->end > RESP_HDR_MAX)
			complete(wp, EOVERFLOW, NULL, "the answer's headers"
				 " are longer than %u bytes", RESP_HDR_MAX);
		return;
	}
	if (err) {
		complete(wp, EBADMSG, NULL, "the answer is not HTTP");
		return;
	}

	complete(wp, 0, msg, NULL);
	mem_deref(msg);
}


static void close_handler(int err, void *arg)
{
	struct whpost *wp = arg;

	if (!wp->estab && wp->secure && (err == EPROTO || !err))
		complete(wp, err ? err : ECONNRESET, NULL,
			 "TLS handshake failed (is the certificate valid and"
			 " for %s?)", wp->host);
	else if (!wp->estab)
		complete(wp, err ? err : ECONNRESET, NULL,
			 "could not connect: %m", err ? err : ECONNRESET);
	else
		complete(wp, err ? err : ECONNRESET, NULL,
			 "the connection closed before an answer");
}


static int conn_start(struct whpost *wp)
{
	struct sa ip;
	int err;

	err = tcp_connect(&wp->tc, &wp->addr, estab_handler, recv_handler,
			  close_handler, wp);
	if (err)
		return err;

	if (!wp->secure)
		return 0;

	/* the tls_conn must exist before the TCP connection is up: then
	   the handshake starts, and the checks must be in place */
	err = tls_start_tcp(&wp->sc, wp->tls, wp->tc, 0);
	if (err)
		return err;

	err = tls_set_verify_server(wp->sc, wp->host);
	if (err)
		return err;

	/* SNI takes a name, not an address */
	if (sa_set_str(&ip, wp->host, wp->port))
		err = tls_set_servername(wp->sc, wp->host);

	return err;
}


static bool rr_handler(struct dnsrr *rr, void *arg)
{
	struct whpost *wp = arg;

	switch (rr->type) {

	case DNS_TYPE_A:
		sa_set_in(&wp->addr, rr->rdata.a.addr, wp->port);
		return true;

	case DNS_TYPE_AAAA:
		sa_set_in6(&wp->addr, rr->rdata.aaaa.addr, wp->port);
		return true;

	default:
		return false;
	}
}


static void query_handler(int err, const struct dnshdr *hdr,
			  struct list *ansl, struct list *authl,
			  struct list *addl, void *arg)
{
	struct whpost *wp = arg;
	(void)hdr;
	(void)authl;
	(void)addl;

	wp->dq = mem_deref(wp->dq);

	/* the first address, following a CNAME chain */
	if (!err)
		dns_rrlist_apply2(ansl, wp->host, DNS_TYPE_A, DNS_TYPE_AAAA,
				  DNS_CLASS_IN, true, rr_handler, wp);

	if (!sa_isset(&wp->addr, SA_ADDR)) {
		complete(wp, err ? err : EDESTADDRREQ, NULL,
			 "could not resolve %s", wp->host);
		return;
	}

	err = conn_start(wp);
	if (err)
		complete(wp, err, NULL, "could not connect: %m", err);
}


static int request_print(struct whpost *wp, const struct webhook_url *u,
			 const struct whpost_prm *prm)
{
	bool slash = !u->path.l || u->path.p[0] != '/';

	return mbuf_printf(wp->req, "POST %s%r HTTP/1.1\r\n"
			   "Host: %r\r\n"
			   "%s"
			   "Content-Length: %zu\r\n"
			   "Connection: close\r\n"
			   "\r\n"
			   "%b",
			   slash ? "/" : "", &u->path, &u->hostport,
			   prm->hdrs ? prm->hdrs : "",
			   prm->len, prm->body, prm->len);
}


/**
 * Send one POST; the handler is called once, unless wp is freed first
 * (which cancels the exchange)
 *
 * @param wpp  Returned exchange; mem_deref() it when done or to cancel
 * @param prm  What to send where (copied)
 * @param h    Called with the answer, or an error and why
 * @param arg  Handler argument
 *
 * @return 0 if under way, otherwise errorcode (the handler is not called)
 */
int whpost_send(struct whpost **wpp, const struct whpost_prm *prm,
		whpost_h *h, void *arg)
{
	struct webhook_url u;
	struct whpost *wp;
	int err;

	if (!wpp || !prm || !prm->url || !h || (!prm->body && prm->len) ||
	    !prm->timeout_ms)
		return EINVAL;

	if (webhook_url_decode(&u, prm->url, NULL))
		return EINVAL;

	if (u.tls && !prm->tls)
		return ENOTSUP;

	wp = mem_zalloc(sizeof(*wp), whpost_destructor);
	if (!wp)
		return ENOMEM;

	tmr_init(&wp->tmr);
	wp->secure = u.tls;
	wp->port = u.port;
	wp->timeout_ms = prm->timeout_ms;
	wp->tls = mem_ref(prm->tls);
	wp->h = h;
	wp->arg = arg;

	wp->req = mbuf_alloc(512 + prm->len);
	wp->rx = mbuf_alloc(1024);
	if (!wp->req || !wp->rx) {
		err = ENOMEM;
		goto out;
	}

	err  = pl_strdup(&wp->host, &u.host);
	err |= request_print(wp, &u, prm);
	if (err)
		goto out;
	wp->req->pos = 0;

	tmr_start(&wp->tmr, prm->timeout_ms, timeout_handler, wp);

	/* an address, "localhost" (which DNS servers do not answer), or a
	   name to resolve */
	if (0 == sa_set_str(&wp->addr, wp->host, wp->port)) {
		err = conn_start(wp);
	}
	else if (0 == str_casecmp(wp->host, "localhost")) {
		sa_set_str(&wp->addr, "127.0.0.1", wp->port);
		err = conn_start(wp);
	}
	else if (!prm->dnsc) {
		err = EDESTADDRREQ;
	}
	else {
		err = dnsc_query(&wp->dq, prm->dnsc, wp->host, DNS_TYPE_A,
				 DNS_CLASS_IN, true, query_handler, wp);
	}

 out:
	if (err)
		mem_deref(wp);
	else
		*wpp = wp;

	return err;
}
