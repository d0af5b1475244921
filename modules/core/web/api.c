/**
 * @file api.c  The API front door: origin check, auth, routing, JSON bodies
 *
 * Every request passes here in this order, so a handler only ever sees a
 * request that is allowed, authenticated, routed and (for API_JSON
 * routes) carries a JSON object:
 *
 *   CORS preflight -> origin (403) -> token on /api/ paths and on
 *   API_TOKEN routes, unless API_PUBLIC, or API_LOOPBACK and the peer
 *   is on loopback (401) -> route (404, 405) -> body (415, 400) -> handler
 *
 * The router writes every reply: a handler answers through api_reply(),
 * api_reply_text(), api_reply_raw() or api_error(), exactly once, and a
 * handler that does not is answered 500 for it.
 *
 * Threads: main thread only.
 */

#include <netinet/in.h>
#include "sipphone.h"


enum {
	SEG_MAX = 12,          /* path segments we match */
};

/* A path split at '/' */
struct segs {
	struct pl v[SEG_MAX];
	size_t c;
};

struct route {
	struct le le;
	char *met;
	char *pattern;
	struct segs segs;      /* the pattern split, once        */
	unsigned flags;
	api_h *h;
	void *arg;
};

struct api {
	struct list routel;
	struct auth *auth;
};

/* A request as the router keeps it: what the handler sees, and the
   router's own state the handler cannot touch */
struct call {
	struct api_req req;    /* first: a handler's req is the call */
	const char *pnamev[API_PARAM_MAX];  /* "{call}" -> "call"     */
	char *paramv[API_PARAM_MAX];        /* its value in the path  */
	size_t paramc;
	bool replied;
};


static const char no_store[] = "Cache-Control: no-store\r\n";
static const char cors_methods[] = "GET, POST, DELETE, OPTIONS";
static const char cors_headers[] = "Authorization, Content-Type";


static void segs_split(struct segs *s, const char *path)
{
	const char *p = path;

	/* a target that is no path ("*", "http://h/x") matches nothing */
	if (*p != '/') {
		s->c = SEG_MAX + 1;
		return;
	}

	s->c = 0;
	while (*p == '/' && s->c < SEG_MAX) {
		const char *end = strchr(p + 1, '/');
		size_t len = end ? (size_t)(end - p - 1) : strlen(p + 1);

		/* a trailing slash adds no segment */
		if (!len && !end)
			break;

		s->v[s->c].p = p + 1;
		s->v[s->c].l = len;
		s->c++;

		if (!end)
			return;
		p = end;
	}

	/* more segments than any route has: match nothing */
	if (*p == '/' && p[1])
		s->c = SEG_MAX + 1;
}


static bool seg_is_param(const struct pl *seg)
{
	return seg->l > 2 && seg->p[0] == '{' && seg->p[seg->l - 1] == '}';
}


static void route_destructor(void *arg)
{
	struct route *rt = arg;

	list_unlink(&rt->le);
	mem_deref(rt->met);
	mem_deref(rt->pattern);
}


static void api_destructor(void *arg)
{
	struct api *api = arg;

	list_flush(&api->routel);
	mem_deref(api->auth);
}


/**
 * Create the API router
 *
 * @param apip  Returned router
 * @param auth  Tokens and origins to check requests against
 *
 * @return 0 if success, otherwise errorcode
 */
int api_alloc(struct api **apip, struct auth *auth)
{
	struct api *api;

	if (!apip || !auth)
		return EINVAL;

	api = mem_zalloc(sizeof(*api), api_destructor);
	if (!api)
		return ENOMEM;

	api->auth = mem_ref(auth);
	*apip = api;

	return 0;
}


/**
 * Add a route
 *
 * @param api      Router
 * @param met      HTTP method
 * @param pattern  Path; a segment "{name}" matches any one segment
 * @param flags    enum api_flags
 * @param h        Handler
 * @param arg      Handler argument (also the key for api_unroute_arg)
 *
 * @return 0 if success, otherwise errorcode
 */
int api_route(struct api *api, const char *met, const char *pattern,
	      unsigned flags, api_h *h, void *arg)
{
	struct route *rt;
	int err;

	if (!api || !met || !pattern || pattern[0] != '/' || !h ||
	    ((flags & API_PUBLIC) && (flags & API_TOKEN)))
		return EINVAL;

	rt = mem_zalloc(sizeof(*rt), route_destructor);
	if (!rt)
		return ENOMEM;

	rt->flags = flags;
	rt->h = h;
	rt->arg = arg;

	err  = str_dup(&rt->met, met);
	err |= str_dup(&rt->pattern, pattern);
	if (err) {
		mem_deref(rt);
		return err;
	}

	segs_split(&rt->segs, rt->pattern);
	if (rt->segs.c > SEG_MAX) {
		mem_deref(rt);
		return EINVAL;
	}

	list_append(&api->routel, &rt->le, rt);

	return 0;
}


/** Remove every route whose handler argument is arg */
void api_unroute_arg(struct api *api, const void *arg)
{
	struct le *le;

	if (!api)
		return;

	le = list_head(&api->routel);
	while (le) {
		struct route *rt = le->data;

		le = le->next;
		if (rt->arg == arg)
			mem_deref(rt);
	}
}


static struct call *call_of(const struct api_req *req)
{
	return (struct call *)req;
}


/* Match path against a route's pattern, filling the call's params */
static bool route_match(const struct route *rt, const struct segs *path,
			struct call *call)
{
	const struct segs *pat = &rt->segs;
	size_t i;

	/* a path longer than any route (SEG_MAX + 1) matches none */
	if (pat->c != path->c)
		return false;

	for (i = 0; i < pat->c; i++) {
		if (seg_is_param(&pat->v[i])) {
			if (!path->v[i].l)
				return false;
			continue;
		}
		if (pl_cmp(&pat->v[i], &path->v[i]))
			return false;
	}

	if (!call)
		return true;

	for (i = 0; i < pat->c && call->paramc < API_PARAM_MAX; i++) {
		if (!seg_is_param(&pat->v[i]))
			continue;

		/* names point into the pattern: "{call}" -> "call" */
		call->pnamev[call->paramc] = pat->v[i].p + 1;
		if (pl_strdup(&call->paramv[call->paramc], &path->v[i]))
			return false;
		call->paramc++;
	}

	return true;
}


/**
 * A path parameter by name
 *
 * @param req   Request
 * @param name  Parameter name as in the pattern, without braces
 *
 * @return its value, or NULL
 */
const char *api_param(const struct api_req *req, const char *name)
{
	const struct call *call = call_of(req);
	size_t i, len = str_len(name);

	if (!req || !len)
		return NULL;

	for (i = 0; i < call->paramc; i++) {
		if (0 == strncmp(call->pnamev[i], name, len) &&
		    call->pnamev[i][len] == '}')
			return call->paramv[i];
	}

	return NULL;
}


/** A query parameter of the request (see query_get) */
int api_query(const struct api_req *req, const char *name, struct pl *val)
{
	return req ? query_get(req->wr->query, name, val) : EINVAL;
}


/** An unsigned integer query parameter (see query_u64) */
int api_query_u64(const struct api_req *req, const char *name,
		  uint64_t *valp)
{
	return req ? query_u64(req->wr->query, name, valp) : EINVAL;
}


/**
 * The page size of a collection: ?limit=N, default API_LIMIT_DEFAULT,
 * and a limit above API_LIMIT_MAX is served as API_LIMIT_MAX
 *
 * @param req     Request
 * @param limitp  Returned page size
 *
 * @return 0 if success, EINVAL after answering 400 for a malformed value
 */
int api_limit(struct api_req *req, size_t *limitp)
{
	uint64_t limit = API_LIMIT_DEFAULT;

	if (api_query_u64(req, "limit", &limit)) {
		api_error(req, 400, "invalid_query", "limit must be a number"
			  " (at most %d is used)", API_LIMIT_MAX);
		return EINVAL;
	}

	*limitp = (size_t)min(limit, (uint64_t)API_LIMIT_MAX);

	return 0;
}


/* CORS headers for a listed cross-origin browser; none for the rest */
static int cors_print(struct re_printf *pf, const struct api_req *req)
{
	const char *origin = req->wr->origin;

	if (!origin || !auth_origin_listed(req->api->auth, origin))
		return 0;

	return re_hprintf(pf, "Access-Control-Allow-Origin: %s\r\n"
			  "Vary: Origin\r\n", origin);
}


/* The one way out: a request is answered once */
static bool reply_claim(struct api_req *req)
{
	struct call *call = call_of(req);

	if (call->replied)
		return false;

	call->replied = true;
	return true;
}


/*
 * An API reply: no-store, CORS for a listed origin, then xhdrs; the body
 * printed straight into the reply
 */
static int reply_vsend(struct api_req *req, uint16_t status,
		       const char *xhdrs, const char *ctype,
		       const char *fmt, va_list ap)
{
	const char *origin = req->wr->origin;
	char *hdrs = NULL;
	int err;

	if (!reply_claim(req))
		return EALREADY;

	/* the usual reply, with neither, needs no header string made */
	if (xhdrs || (origin && auth_origin_listed(req->api->auth, origin))) {
		err = re_sdprintf(&hdrs, "%s%H%s", no_store, cors_print, req,
				  xhdrs ? xhdrs : "");
		if (err)
			return err;
	}

	err = web_vreply(req->wr->conn, status, hdrs ? hdrs : no_store,
			 ctype, fmt, ap);
	mem_deref(hdrs);

	return err;
}


static int reply_send(struct api_req *req, uint16_t status,
		      const char *xhdrs, const char *ctype,
		      const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = reply_vsend(req, status, xhdrs, ctype, fmt, ap);
	va_end(ap);

	return err;
}


/**
 * Answer with a JSON body
 *
 * @param req     Request
 * @param status  HTTP status
 * @param body    JSON value (reference stolen)
 *
 * @return 0 if success, otherwise errorcode
 */
int api_reply(struct api_req *req, uint16_t status, json_t *body)
{
	int err;

	if (!req || !body) {
		json_decref(body);
		return EINVAL;
	}

	err = reply_send(req, status, NULL, "application/json", "%H",
			 jx_print, body);
	json_decref(body);

	return err;
}


/** Answer with a non-JSON body, e.g. text/plain */
int api_reply_text(struct api_req *req, uint16_t status, const char *ctype,
		   const char *fmt, ...)
{
	va_list ap;
	int err;

	if (!req || !ctype || !fmt)
		return EINVAL;

	va_start(ap, fmt);
	err = reply_vsend(req, status, NULL, ctype, fmt, ap);
	va_end(ap);

	return err;
}


/**
 * Answer with the caller's own headers instead of the API's (no
 * Cache-Control: no-store, no CORS) and a body of any bytes: for what is
 * not the API, such as the console's files
 *
 * @param req     Request
 * @param status  HTTP status
 * @param hdrs    Header lines, each "Name: value\r\n", or NULL
 * @param ctype   Content type, or NULL for no body
 * @param body    Body bytes
 * @param len     Body length
 *
 * @return 0 if success, otherwise errorcode
 */
int api_reply_raw(struct api_req *req, uint16_t status, const char *hdrs,
		  const char *ctype, const void *body, size_t len)
{
	if (!req || (!body && len))
		return EINVAL;

	if (!reply_claim(req))
		return EALREADY;

	return web_reply(req->wr->conn, status, hdrs, ctype,
			 ctype ? "%b" : NULL, body, len);
}


struct errbody {
	const char *code;
	const char *msg;
};


static int errbody_print(struct re_printf *pf, const struct errbody *eb)
{
	return sp_err_json(pf, eb->code, eb->msg);
}


static int error_send(struct api_req *req, uint16_t status,
		      const char *xhdrs, const char *code,
		      const char *fmt, va_list ap)
{
	char *msg = NULL;
	int err;

	err = re_vsdprintf(&msg, fmt, ap);
	if (err)
		return err;

	debug("api: %s %s -> %u %s: %s\n", req->wr->met, req->wr->path,
	      status, code, msg);

	err = reply_send(req, status, xhdrs, "application/json", "%H",
			 errbody_print, &(struct errbody){code, msg});
	mem_deref(msg);

	return err;
}


/**
 * Answer with an error: {"error":{"code","message"}}
 *
 * @param req     Request
 * @param status  HTTP status
 * @param code    snake_case error code
 * @param fmt     Human message (re_printf format)
 *
 * @return 0 if success, otherwise errorcode
 */
int api_error(struct api_req *req, uint16_t status, const char *code,
	      const char *fmt, ...)
{
	va_list ap;
	int err;

	if (!req || !code || !fmt)
		return EINVAL;

	va_start(ap, fmt);
	err = error_send(req, status, NULL, code, fmt, ap);
	va_end(ap);

	return err;
}


/** Answer with an error someone else described (ops, hub, ...) */
int api_fail(struct api_req *req, const struct sp_err *err)
{
	if (!req || !err || !err->code)
		return EINVAL;

	return api_error(req, err->status, err->code, "%s", err->msg);
}


static void error_hdr(struct api_req *req, uint16_t status,
		      const char *xhdrs, const char *code,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)error_send(req, status, xhdrs, code, fmt, ap);
	va_end(ap);
}


static void preflight(struct api_req *req)
{
	const char *origin = req->wr->origin;
	char *hdrs = NULL;

	if (origin && !auth_origin_listed(req->api->auth, origin)) {
		api_error(req, 403, "origin_not_allowed",
			  "origin %s is not allowed", origin);
		return;
	}

	if (re_sdprintf(&hdrs, "Allow: %s\r\n"
			"Access-Control-Allow-Methods: %s\r\n"
			"Access-Control-Allow-Headers: %s\r\n"
			"Access-Control-Max-Age: 600\r\n",
			cors_methods, cors_methods, cors_headers)) {
		api_error(req, 500, "internal_error", "out of memory");
		return;
	}

	(void)reply_send(req, 204, hdrs, NULL, NULL);
	mem_deref(hdrs);
}


/* "application/json", any parameters after it */
static bool ctype_is_json(const char *ctype)
{
	struct pl type;

	if (!ctype)
		return false;

	type.p = ctype + strspn(ctype, " \t");
	type.l = strcspn(type.p, " \t;");

	return 0 == pl_strcasecmp(&type, "application/json");
}


/* Read the body of an API_JSON route; false when an error was sent */
static bool body_decode(struct api_req *req)
{
	const struct mbuf *mb = req->wr->body;
	size_t len = mb ? mb->end : 0;
	json_error_t jerr;

	if (!len) {
		req->body = json_object();
		if (!req->body) {
			api_error(req, 500, "internal_error", "out of memory");
			return false;
		}
		return true;
	}

	if (!ctype_is_json(req->wr->ctype)) {
		api_error(req, 415, "unsupported_media_type",
			  "the body must be application/json");
		return false;
	}

	req->body = json_loadb((const char *)mb->buf, len,
			       JSON_REJECT_DUPLICATES, &jerr);
	if (!req->body) {
		api_error(req, 400, "invalid_json",
			  "invalid JSON at line %d column %d: %s",
			  jerr.line, jerr.column, jerr.text);
		return false;
	}

	if (!json_is_object(req->body)) {
		api_error(req, 400, "invalid_json",
			  "the body must be a JSON object");
		return false;
	}

	return true;
}


struct allow {
	const struct api *api;
	const struct segs *path;
};


/* "Allow: GET, POST\r\n" for a path: the methods its routes take */
static int allow_print(struct re_printf *pf, const struct allow *al)
{
	const struct api *api = al->api;
	const struct segs *path = al->path;
	struct le *le;
	bool first = true;
	int err = re_hprintf(pf, "Allow: ");

	for (le = list_head(&api->routel); le; le = le->next) {
		const struct route *rt = le->data;

		if (!route_match(rt, path, NULL))
			continue;
		err |= re_hprintf(pf, "%s%s", first ? "" : ", ", rt->met);
		first = false;
	}

	return err | re_hprintf(pf, "\r\n");
}


/* 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104 (IPv4 on a v6 socket) */
static bool peer_is_loopback(const struct sa *peer)
{
	const struct in6_addr *a6;

	if (!peer)
		return false;

	switch (sa_af(peer)) {

	case AF_INET:
		return (ntohl(peer->u.in.sin_addr.s_addr) >> 24) == 127;

	case AF_INET6:
		a6 = &peer->u.in6.sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a6) ||
			(IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);

	default:
		return false;
	}
}


/*
 * Everything under /api/ needs a token, even unknown paths, so a client
 * without one learns nothing about the routes; elsewhere only API_TOKEN
 * routes do. API_LOOPBACK lets a client on this machine in without one.
 */
static bool token_needed(const struct route *rt, const struct web_req *wr)
{
	unsigned flags = rt ? rt->flags : 0;

	if (flags & API_PUBLIC)
		return false;

	if (!(flags & API_TOKEN) && strncmp(wr->path, "/api/", 5))
		return false;

	return !(flags & API_LOOPBACK) ||
		!peer_is_loopback(web_conn_peer(wr->conn));
}


static void dispatch(struct api_req *req)
{
	struct api *api = req->api;
	const struct web_req *wr = req->wr;
	const struct route *found = NULL;
	bool path_known = false;
	struct segs path;
	struct le *le;

	segs_split(&path, wr->path);

	for (le = list_head(&api->routel); le; le = le->next) {
		const struct route *rt = le->data;

		if (!route_match(rt, &path, NULL))
			continue;

		path_known = true;
		if (0 == str_casecmp(rt->met, wr->met)) {
			found = rt;
			break;
		}
	}

	if (token_needed(found, wr) &&
	    !auth_bearer_ok(api->auth, wr->authz)) {
		error_hdr(req, 401, "WWW-Authenticate: Bearer\r\n",
			  "unauthorized", "a valid bearer token is required");
		return;
	}

	if (!path_known) {
		api_error(req, 404, "not_found", "no such resource: %s",
			  wr->path);
		return;
	}

	if (!found) {
		struct allow al = {api, &path};
		char *allow = NULL;

		if (re_sdprintf(&allow, "%H", allow_print, &al)) {
			api_error(req, 500, "internal_error", "out of memory");
			return;
		}
		error_hdr(req, 405, allow, "method_not_allowed",
			  "%s is not allowed on %s", wr->met, wr->path);
		mem_deref(allow);
		return;
	}

	if (!route_match(found, &path, call_of(req))) {
		api_error(req, 500, "internal_error", "out of memory");
		return;
	}

	if ((found->flags & API_JSON) && !body_decode(req))
		return;

	found->h(req, found->arg);

	if (!call_of(req)->replied) {
		warning("api: %s %s: handler gave no answer\n",
			wr->met, wr->path);
		api_error(req, 500, "internal_error", "no answer");
	}
}


/**
 * Handle one HTTP request (a web_req_h)
 *
 * @param wr   The request
 * @param arg  The router (struct api)
 */
void api_handle(const struct web_req *wr, void *arg)
{
	struct call call;
	struct api_req *req = &call.req;
	size_t i;

	memset(&call, 0, sizeof(call));
	req->wr = wr;
	req->api = arg;

	if (0 == str_casecmp(wr->met, "OPTIONS"))
		preflight(req);
	else if (!auth_origin_ok(req->api->auth, wr->origin, wr->host))
		api_error(req, 403, "origin_not_allowed",
			  "origin %s is not allowed", wr->origin);
	else
		dispatch(req);

	for (i = 0; i < call.paramc; i++)
		mem_deref(call.paramv[i]);
	json_decref(req->body);
}
