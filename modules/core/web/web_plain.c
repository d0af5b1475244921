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

#include "sipphone.h"
#include "webpriv.h"


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

	/* a Host no redirect may name (EINVAL) is refused as above */
	if (web->tls_plain == WEB_TLS_PLAIN_REDIRECT && !upgrade && !creds &&
	    (0 == str_cmp(req->met, "GET") || 0 == str_cmp(req->met, "HEAD"))) {

		err = web_head_location(&loc, req->host, req->path,
					req->query);
		if (err && err != EINVAL)
			return -1;

		if (!err)
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
