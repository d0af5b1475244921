/**
 * @file http.c  Webhook POSTs on libcurl, run by libre's loop
 *
 * libcurl's multi interface does the HTTP: we give it libre's loop.
 * CURLMOPT_SOCKETFUNCTION tells which sockets to watch, for what: each
 * becomes an fd_listen(), and fd_close() when curl is done with it;
 * CURLMOPT_TIMERFUNCTION sets one libre timer. Both lead to
 * curl_multi_socket_action(), then finished transfers are handed back.
 * Nothing here blocks the loop.
 *
 * What curl does for us (libre 1.1.0's own client verifies nothing):
 *
 *  - https is verified: the chain against the CA file of
 *    httpctl_webhook_ca only (no CA directory), the name against the
 *    URL's host. The parsed CA file is kept for a day (curl's
 *    CURLOPT_CA_CACHE_TIMEOUT default): a changed file counts after a
 *    restart.
 *  - proxies from the environment of the process: http_proxy (lower
 *    case only, as curl reads it), HTTPS_PROXY/https_proxy, ALL_PROXY,
 *    and NO_PROXY for the hosts that go direct.
 *  - IPv6 and IPv4: a host name's addresses are tried with "happy
 *    eyeballs" (the other family 200 ms after the first, if that one
 *    has not connected); "localhost" is resolved by curl itself.
 *  - connections are kept alive and reused by the next POST to the same
 *    host and port (one at a time per endpoint: an endpoint has one
 *    attempt in flight). At most CONN_CACHE idle connections are kept,
 *    each for CONN_IDLE_S idle at most and CONN_LIFE_S in all, so a new
 *    address of a host name is picked up within that time; curl prunes
 *    them when the next POST starts. A connection the receiver closed
 *    while idle is found dead before reuse, and one that dies with no
 *    answer byte yet is retried once on a new connection by curl (so a
 *    receiver may, rarely, see a POST twice: deliveries are at least
 *    once anyway, by webhook-id).
 *
 * Name lookups: Debian's libcurl resolves with getaddrinfo() on a
 * thread of its own per lookup (its threaded resolver; it has no
 * c-ares), which hands the answer back through a socket pair that the
 * loop watches like any other. That thread runs only getaddrinfo(): it
 * touches nothing of libre, baresip or ours. A lookup still running
 * when its POST is cancelled is left to finish on its own (curl detaches
 * the thread), so libcurl is kept mapped after the module is unloaded.
 * Answers are cached by curl for 60 s. baresip's DNS client is no
 * longer used for webhooks: it resolves only for SIP, knows no
 * /etc/hosts, and an IPv6 fallback would have to be written here again.
 *
 * One timer bounds each POST: connect (with the lookup, the proxy and
 * TLS), send and the answer, in all (15 s, set by the caller). The
 * answer's body is read and dropped, up to BODY_MAX; a longer one is cut
 * short (its connection is closed), its status stands.
 *
 * Threads: main thread only, but for curl's lookup threads above.
 */

#include <dlfcn.h>
#include <unistd.h>
#include <curl/curl.h>
#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	CONN_CACHE = 16,       /* idle connections kept, all hosts     */
	CONN_IDLE_S = 60,      /* reused within this of its last use   */
	CONN_LIFE_S = 600,     /* ... and of its opening               */
	BODY_MAX = 65536,      /* answer body read, at most            */
	REASON_MAX = 64,
	RETRY_AFTER_MAX = 64,
};

/* The client and all below: main thread only (curl's lookup threads
   touch none of it) */
struct whhttp {
	CURLM *multi;
	struct tmr tmr;        /* curl's next timeout                  */
	struct list socks;     /* struct sock: what curl has us watch  */
	char *ca;              /* CA file; NULL: https is not sent     */
	char ua[48];           /* User-Agent                           */
};

/* A socket curl has us watch */
struct sock {
	struct le le;
	struct whhttp *http;
	curl_socket_t fd;
};

struct whhttp_req {
	struct whhttp *http;
	CURL *easy;
	bool added;            /* in the multi handle                  */
	struct curl_slist *hdrs;
	char *host;            /* for what we say when it fails        */
	uint32_t timeout_ms;
	size_t body_read;
	bool body_cut;         /* we stopped reading an endless body   */
	char reason[REASON_MAX];
	char retry_after[RETRY_AFTER_MAX];
	char errbuf[CURL_ERROR_SIZE];
	char why[160];
	whhttp_h *h;
	void *arg;
};


static void sock_destructor(void *arg)
{
	struct sock *sk = arg;

	list_unlink(&sk->le);
	fd_close(sk->fd);
}


static void check_done(struct whhttp *http);


static void fd_handler(int flags, void *arg)
{
	struct sock *sk = arg;
	struct whhttp *http = sk->http;
	int ev = 0, running;

	if (flags & FD_READ)
		ev |= CURL_CSELECT_IN;
	if (flags & FD_WRITE)
		ev |= CURL_CSELECT_OUT;
	if (flags & FD_EXCEPT)
		ev |= CURL_CSELECT_ERR;

	/* sk may be gone when this returns */
	(void)curl_multi_socket_action(http->multi, sk->fd, ev, &running);
	check_done(http);
}


/* curl: watch s for what, or stop (CURL_POLL_REMOVE, before it closes
   the socket) */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
		     void *socketp)
{
	struct whhttp *http = userp;
	struct sock *sk = socketp;
	int flags = 0;
	(void)easy;

	if (what == CURL_POLL_REMOVE) {
		mem_deref(sk);
		return 0;
	}

	if (!sk) {
		sk = mem_zalloc(sizeof(*sk), sock_destructor);
		if (!sk)
			return -1;

		sk->http = http;
		sk->fd = s;
		list_append(&http->socks, &sk->le, sk);
		curl_multi_assign(http->multi, s, sk);
	}

	if (what & CURL_POLL_IN)
		flags |= FD_READ;
	if (what & CURL_POLL_OUT)
		flags |= FD_WRITE;

	return fd_listen(s, flags, fd_handler, sk) ? -1 : 0;
}


static void tmr_handler(void *arg)
{
	struct whhttp *http = arg;
	int running;

	(void)curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0,
				       &running);
	check_done(http);
}


/* curl: call back in timeout_ms (-1: no timeout needed). Never acted on
   here: curl must not be re-entered from its own callback */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct whhttp *http = userp;
	(void)multi;

	if (timeout_ms < 0)
		tmr_cancel(&http->tmr);
	else
		tmr_start(&http->tmr, (uint64_t)timeout_ms, tmr_handler,
			  http);

	return 0;
}


/* Why a transfer failed, in words for the delivery record */
static int fail_text(struct whhttp_req *req, CURLcode rc)
{
	const char *detail = req->errbuf[0] ? req->errbuf
					     : curl_easy_strerror(rc);
	long oserr = 0;

	switch (rc) {

	case CURLE_OPERATION_TIMEDOUT:
		re_snprintf(req->why, sizeof(req->why),
			    "no answer within %u s", req->timeout_ms / 1000);
		return ETIMEDOUT;

	case CURLE_COULDNT_RESOLVE_HOST:
		re_snprintf(req->why, sizeof(req->why),
			    "could not resolve %s", req->host);
		return EDESTADDRREQ;

	case CURLE_COULDNT_CONNECT:
		(void)curl_easy_getinfo(req->easy, CURLINFO_OS_ERRNO, &oserr);
		if (oserr)
			re_snprintf(req->why, sizeof(req->why),
				    "could not connect: %m", (int)oserr);
		else
			re_snprintf(req->why, sizeof(req->why),
				    "could not connect: %s", detail);
		return oserr ? (int)oserr : ECONNREFUSED;

	case CURLE_SSL_CACERT_BADFILE:
		re_snprintf(req->why, sizeof(req->why), "https is not"
			    " available (the CA file could not be loaded)");
		return ENOTSUP;

	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		re_snprintf(req->why, sizeof(req->why),
			    "TLS handshake failed: %s", detail);
		return EPROTO;

	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		re_snprintf(req->why, sizeof(req->why),
			    "the connection closed before an answer");
		return ECONNRESET;

	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		re_snprintf(req->why, sizeof(req->why),
			    "the answer is not HTTP");
		return EBADMSG;

	case CURLE_OUT_OF_MEMORY:
		re_snprintf(req->why, sizeof(req->why), "out of memory");
		return ENOMEM;

	default:
		re_snprintf(req->why, sizeof(req->why), "could not send: %s",
			    detail);
		return EIO;
	}
}


/* A finished transfer: the handler is called once */
static void complete(struct whhttp_req *req, CURLcode rc)
{
	struct whhttp_answer ans;
	whhttp_h *h = req->h;
	long status = 0;
	int err;

	req->h = NULL;

	/* the handler may free req: nothing of it is touched after */
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && req->body_cut)) {
		(void)curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE,
					&status);
		memset(&ans, 0, sizeof(ans));
		ans.status = (uint16_t)status;
		ans.reason = req->reason;
		pl_set_str(&ans.retry_after, req->retry_after);
		if (h)
			h(0, NULL, &ans, req->arg);
		return;
	}

	err = fail_text(req, rc);
	if (h)
		h(err, req->why, NULL, req->arg);
}


/* Hand the finished transfers back; their handlers may start others */
static void check_done(struct whhttp *http)
{
	struct whhttp_req *req;
	CURLMsg *msg;
	CURLcode rc;
	CURL *easy;
	int left;

	while ((msg = curl_multi_info_read(http->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;

		/* msg is gone once its handle is removed */
		easy = msg->easy_handle;
		rc = msg->data.result;
		req = NULL;
		(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, &req);

		(void)curl_multi_remove_handle(http->multi, easy);
		if (!req)
			continue;

		req->added = false;
		complete(req, rc);
	}
}


/* The status line and headers of the answer (and of a 1xx before it) */
static size_t header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct whhttp_req *req = arg;
	size_t len = size * n;
	struct pl val = PL_INIT;

	if (len > 5 && 0 == strncmp(buf, "HTTP/", 5)) {
		/* a new status line: what came before was a 1xx */
		(void)re_regex(buf, len, "HTTP/[^ ]+ [0-9]+[ ]*[^\r\n]*",
			       NULL, NULL, NULL, &val);
		re_snprintf(req->reason, sizeof(req->reason), "%r", &val);
		req->retry_after[0] = '\0';
	}
	else if (len > 12 && 0 == strncasecmp(buf, "Retry-After:", 12)) {
		(void)re_regex(buf + 12, len - 12, "[ \t]*[^\r\n]*", NULL,
			       &val);
		while (val.l && (val.p[val.l - 1] == ' ' ||
				 val.p[val.l - 1] == '\t'))
			--val.l;
		re_snprintf(req->retry_after, sizeof(req->retry_after), "%r",
			    &val);
	}

	return len;
}


/* The answer's body: read and dropped, up to BODY_MAX */
static size_t write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct whhttp_req *req = arg;
	(void)buf;

	req->body_read += size * n;
	if (req->body_read > BODY_MAX) {
		req->body_cut = true;
		return 0;
	}

	return size * n;
}


static void req_destructor(void *arg)
{
	struct whhttp_req *req = arg;

	if (req->added)
		(void)curl_multi_remove_handle(req->http->multi, req->easy);
	if (req->easy)
		curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->hdrs);
	mem_deref(req->host);
	mem_deref(req->http);
}


static int hdrs_make(struct whhttp_req *req, const struct whhttp_prm *prm)
{
	/* no "Expect: 100-continue" round trip and no Accept header: the
	   request is what it was before curl */
	static const char *const fixed[] = {"Expect:", "Accept:"};
	struct curl_slist *l;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fixed) + prm->hdrc; i++) {
		const char *h = i < ARRAY_SIZE(fixed) ? fixed[i]
			: prm->hdrv[i - ARRAY_SIZE(fixed)];

		l = curl_slist_append(req->hdrs, h);
		if (!l)
			return ENOMEM;
		req->hdrs = l;
	}

	return 0;
}


static int easy_setup(struct whhttp_req *req, const struct whhttp_prm *prm)
{
	const struct whhttp *http = req->http;
	CURL *e = req->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val)
	SET(CURLOPT_PRIVATE, req);
	SET(CURLOPT_ERRORBUFFER, req->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_URL, prm->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_POSTFIELDSIZE, (long)prm->len);
	SET(CURLOPT_COPYPOSTFIELDS, prm->body);
	SET(CURLOPT_HTTPHEADER, req->hdrs);
	SET(CURLOPT_USERAGENT, http->ua);
	SET(CURLOPT_TIMEOUT_MS, (long)prm->timeout_ms);
	SET(CURLOPT_MAXAGE_CONN, (long)CONN_IDLE_S);
	SET(CURLOPT_MAXLIFETIME_CONN, (long)CONN_LIFE_S);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_CAINFO, http->ca);
	SET(CURLOPT_CAPATH, NULL);
	SET(CURLOPT_PROXY_CAINFO, http->ca);
	SET(CURLOPT_PROXY_CAPATH, NULL);
	SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, req);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, req);
#undef SET

	if (rc != CURLE_OK) {
		warning("httpctl: webhooks: curl: %s\n",
			curl_easy_strerror(rc));
		return rc == CURLE_OUT_OF_MEMORY ? ENOMEM : EINVAL;
	}

	return 0;
}


/**
 * Send one POST; the handler is called once, unless req is freed first
 * (which cancels it)
 *
 * @param reqp  Returned request; mem_deref() it when done or to cancel
 * @param http  Client
 * @param prm   What to send where (copied)
 * @param h     Called with the answer, or an error and why
 * @param arg   Handler argument
 *
 * @return 0 if under way, ENOTSUP for https without a CA file, otherwise
 *         errorcode (the handler is not called)
 */
int whhttp_post(struct whhttp_req **reqp, struct whhttp *http,
		const struct whhttp_prm *prm, whhttp_h *h, void *arg)
{
	struct webhook_url u;
	struct whhttp_req *req;
	CURLMcode mrc;
	int err;

	if (!reqp || !http || !prm || !prm->url || !h ||
	    (!prm->body && prm->len) || (!prm->hdrv && prm->hdrc) ||
	    !prm->timeout_ms)
		return EINVAL;

	if (webhook_url_decode(&u, prm->url, NULL))
		return EINVAL;

	if (u.tls && !http->ca)
		return ENOTSUP;

	req = mem_zalloc(sizeof(*req), req_destructor);
	if (!req)
		return ENOMEM;

	req->http = mem_ref(http);
	req->timeout_ms = prm->timeout_ms;
	req->h = h;
	req->arg = arg;

	err = pl_strdup(&req->host, &u.host);
	if (err)
		goto out;

	req->easy = curl_easy_init();
	if (!req->easy) {
		err = ENOMEM;
		goto out;
	}

	err = hdrs_make(req, prm);
	if (!err)
		err = easy_setup(req, prm);
	if (err)
		goto out;

	/* the transfer starts from the timer curl sets now */
	mrc = curl_multi_add_handle(http->multi, req->easy);
	if (mrc != CURLM_OK) {
		warning("httpctl: webhooks: curl: %s\n",
			curl_multi_strerror(mrc));
		err = mrc == CURLM_OUT_OF_MEMORY ? ENOMEM : EIO;
		goto out;
	}
	req->added = true;

 out:
	if (err)
		mem_deref(req);
	else
		*reqp = req;

	return err;
}


static void http_destructor(void *arg)
{
	struct whhttp *http = arg;

	tmr_cancel(&http->tmr);

	/* our watches go before curl closes its sockets, and curl calls
	   us no more while it does */
	list_flush(&http->socks);
	if (http->multi) {
		(void)curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION,
					NULL);
		(void)curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION,
					NULL);
		(void)curl_multi_cleanup(http->multi);
		curl_global_cleanup();
	}
	mem_deref(http->ca);
}


/* A lookup thread curl detached may outlive the module: keep libcurl
   mapped after it is unloaded (it is loaded already: this only pins it;
   the soname is that of Debian's libcurl4) */
static void curl_pin(void)
{
	if (!dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
		warning("httpctl: webhooks: libcurl.so.4 could not be pinned:"
			" a lookup in flight at exit may crash it\n");
}


/**
 * Make the webhook HTTP client
 *
 * @param httpp  Returned client
 * @param ca     CA file trusted for https; if it cannot be read, https
 *               URLs are not sent to (whhttp_post: ENOTSUP)
 *
 * @return 0 if success, otherwise errorcode
 */
int whhttp_alloc(struct whhttp **httpp, const char *ca)
{
	struct whhttp *http;
	CURLMcode mrc = CURLM_OK;
	int err = 0;

	if (!httpp || !ca)
		return EINVAL;

	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return ENOMEM;

	http = mem_zalloc(sizeof(*http), http_destructor);
	if (!http) {
		curl_global_cleanup();
		return ENOMEM;
	}

	tmr_init(&http->tmr);
	list_init(&http->socks);
	re_snprintf(http->ua, sizeof(http->ua), "sipphone/%s",
		    SIPPHONE_VERSION);

	http->multi = curl_multi_init();
	if (!http->multi) {
		curl_global_cleanup();
		err = ENOMEM;
		goto out;
	}

	curl_pin();

#define MSET(opt, val) \
	if (mrc == CURLM_OK) mrc = curl_multi_setopt(http->multi, opt, val)
	MSET(CURLMOPT_SOCKETFUNCTION, socket_cb);
	MSET(CURLMOPT_SOCKETDATA, http);
	MSET(CURLMOPT_TIMERFUNCTION, timer_cb);
	MSET(CURLMOPT_TIMERDATA, http);
	MSET(CURLMOPT_MAXCONNECTS, (long)CONN_CACHE);
#undef MSET
	if (mrc != CURLM_OK) {
		warning("httpctl: webhooks: curl: %s\n",
			curl_multi_strerror(mrc));
		err = EINVAL;
		goto out;
	}

	/* plain http still works without; https would be unverifiable */
	if (access(ca, R_OK))
		warning("httpctl: webhooks: CA file %s could not be read"
			" (%m): https endpoints will not be sent to\n", ca,
			errno);
	else
		err = str_dup(&http->ca, ca);

 out:
	if (err)
		mem_deref(http);
	else
		*httpp = http;

	return err;
}
