/**
 * @file web_plain.c  What a plain-HTTP request on the TLS port gets
 *
 * With a certificate, lws lets a connection that does not start with a
 * TLS record through as plain HTTP (web_tls.c), and every request and
 * upgrade on such a connection comes here first, where httpctl_tls_plain
 * (enum web_tls_plain) decides: refuse, redirect or serve. lws's own
 * redirect (REDIRECT_HTTP_TO_HTTPS) is not used: it is a cached 301 to
 * "https://host/", path dropped, for any method.
 *
 * Threads: main thread only.
 */

#include <ctype.h>
#include "sipphone.h"
#include "webpriv.h"


enum {
	HOST_MAX = 255,
};


static bool host_valid(const char *host)
{
	size_t i, n = str_len(host);

	if (!n || n > HOST_MAX)
		return false;

	for (i = 0; i < n; i++) {
		char c = host[i];

		if (!(isalnum((unsigned char)c) || c == '.' || c == '-' ||
		      c == ':' || c == '[' || c == ']'))
			return false;
	}

	return true;
}


/* Percent-encode what lws decoded, keeping the characters in `keep` */
static int pct_encode(struct mbuf *mb, const char *s, const char *keep)
{
	int err = 0;

	for (; *s && !err; s++) {
		unsigned char c = *s;

		if (isalnum(c) || strchr("-._~", c) || strchr(keep, c))
			err = mbuf_write_u8(mb, c);
		else
			err = mbuf_printf(mb, "%%%02X", c);
	}

	return err;
}


/* "Location: https://host/path?query\r\n" for a plain request */
static int location_hdr(char **hdrp, const struct web_req *req)
{
	struct mbuf *mb;
	int err;

	mb = mbuf_alloc(256);
	if (!mb)
		return ENOMEM;

	err  = mbuf_printf(mb, "Location: https://%s", req->host);
	err |= pct_encode(mb, req->path, "/");
	if (str_isset(req->query)) {
		err |= mbuf_write_u8(mb, '?');
		err |= pct_encode(mb, req->query, "=&");
	}
	err |= mbuf_write_str(mb, "\r\n");
	if (err)
		goto out;

	mb->pos = 0;
	err = mbuf_strdup(mb, hdrp, mb->end);

 out:
	mem_deref(mb);
	return err;
}


static bool has_credentials(const struct web_req *req)
{
	struct pl tok;

	return req->authz || 0 == query_get(req->query, "token", &tok);
}


/**
 * Apply httpctl_tls_plain to a request (conn->req, read) that came
 * without TLS to the TLS port
 *
 * refuse:   400 https_required, and the connection closes.
 * redirect: a GET or HEAD without credentials (a person who typed
 *           http://) gets 307 to the same URL over https; anything else
 *           is refused as above, so that an API client set up with
 *           http:// fails at once instead of sending its token in clear
 *           on every call and following a redirect.
 * allow:    served.
 *
 * @param conn     Connection, its request read
 * @param upgrade  A WebSocket upgrade (answered now, from inside lws's
 *                 callback); otherwise an HTTP request (reply queued)
 *
 * @return 0 to serve it, 1 if answered here, -1 to drop the connection
 */
int web_http_plain(struct web_conn *conn, bool upgrade)
{
	const struct web_req *req = &conn->req;
	struct web *web = conn->web;
	struct sp_err e;
	char *loc = NULL;
	uint16_t status = 400;
	bool creds;
	int err;

	if (!web->tls || lws_is_ssl(conn->wsi) ||
	    web->tls_plain == WEB_TLS_PLAIN_ALLOW)
		return 0;

	creds = has_credentials(req);

	if (creds)
		warning("web: %J: an API token came over plain HTTP to the"
			" HTTPS port: refused (it crossed the network in"
			" clear: consider replacing it)\n", &conn->peer);
	else
		debug("web: %J: plain HTTP %s %s on the HTTPS port\n",
		      &conn->peer, req->met, req->path);

	if (web->tls_plain == WEB_TLS_PLAIN_REDIRECT && !upgrade && !creds &&
	    (0 == str_cmp(req->met, "GET") || 0 == str_cmp(req->met, "HEAD")) &&
	    host_valid(req->host)) {

		err = location_hdr(&loc, req);
		if (err)
			return -1;

		status = 307;
	}

	sp_err_set(&e, status, "https_required", "this port speaks TLS: use"
		   " %s://", upgrade ? "wss" : "https");

	if (upgrade) {
		char *body = NULL;

		err = re_sdprintf(&body, "%H", sp_err_print, &e);
		if (!err)
			err = web_http_write_now(conn, status, NULL, body);
		mem_deref(body);
		return err ? -1 : 1;
	}

	conn->busy = true;
	conn->close_after = true;
	(void)web_reply(conn, status, loc, "application/json", "%H",
			sp_err_print, &e);
	mem_deref(loc);

	return 1;
}
