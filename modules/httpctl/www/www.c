/**
 * @file www.c  The operator console: static files at "/", compiled in
 *
 * The files of modules/httpctl/www/ become byte arrays at build time
 * (modules/embed.cmake writes www_assetv into the build dir), so the
 * module needs no files next to it and no build step outside CMake.
 *
 * The files need no token (API_PUBLIC): the page itself asks for one,
 * keeps it in the tab's sessionStorage and sends it as "Authorization:
 * Bearer" to /api/v1 and as ?token= on the WebSocket. Every answer
 * carries a Content-Security-Policy that lets the page talk only to this
 * server, and Cache-Control: no-cache so an upgrade is seen at once.
 *
 * Threads: main thread only.
 */

#include "sipphone.h"
#include "httpctl.h"
#include "www/www.h"


/* What the page needs and nothing more: its own scripts, styles and
   worklet; REST and WebSocket to this server; no frames, no plugins */
static const char www_hdrs[] =
	"Cache-Control: no-cache\r\n"
	"Content-Security-Policy: default-src 'self';"
	" connect-src 'self' ws: wss:; media-src 'self' blob:;"
	" img-src 'self' data:; object-src 'none'; base-uri 'none';"
	" form-action 'self'; frame-ancestors 'none'\r\n"
	"X-Content-Type-Options: nosniff\r\n"
	"X-Frame-Options: DENY\r\n"
	"Referrer-Policy: no-referrer\r\n";

static const char www_index[] = "/index.html";


static const struct www_asset *www_find(const char *path)
{
	size_t i;

	if (0 == str_cmp(path, "/"))
		path = www_index;

	for (i = 0; i < www_assetc; i++) {
		if (0 == str_cmp(www_assetv[i].path, path))
			return &www_assetv[i];
	}

	return NULL;
}


static void www_get(struct api_req *req, void *arg)
{
	const struct www_asset *a = www_find(req->wr->path);
	int err;
	(void)arg;

	if (!a) {
		api_error(req, 404, "not_found", "no such resource: %s",
			  req->wr->path);
		return;
	}

	/* our own headers, not the API's no-store */
	err = api_reply_raw(req, 200, www_hdrs, a->ctype, a->data, a->len);
	if (err)
		warning("httpctl: www: %s: %m\n", a->path, err);
}


/**
 * Add the console's routes: "/" and one per file
 *
 * @param ctl  The module (the routes' key for api_unroute_arg)
 *
 * @return 0 if success, otherwise errorcode
 */
int www_register(struct httpctl *ctl)
{
	struct api *api = ctl->core->api;
	size_t i;
	int err;

	err = api_route(api, "GET", "/", API_PUBLIC, www_get, ctl);

	for (i = 0; i < www_assetc && !err; i++)
		err = api_route(api, "GET", www_assetv[i].path, API_PUBLIC,
				www_get, ctl);

	return err;
}
