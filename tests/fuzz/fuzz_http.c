/**
 * @file fuzz_http.c  HTTP requests without a socket: request heads
 *                    (core/web/web_head.c) and the API router
 *                    (core/web/api.c)
 *
 * Input: what a client sends on a connection: a request head, then a
 * body.
 *
 * The whole input is checked as web_peek.c checks a head, with the same
 * limits, and as the first bytes of a connection that is not HTTP.
 * Then it is read loosely, as lws may hand it to us whatever the check
 * said (a TLS connection is not peeked): the request line's method,
 * target (path, '?', query) and version; the headers Content-Length,
 * Host, Authorization, Origin, Content-Type and X-Peer (the client's
 * address: a knob of this target, not a header anyone reads); the body
 * after the empty line. The pieces go to web_head.c's small parsers and
 * builders, and the request through the real router, with a route table
 * of stub handlers like the service's and support/webstub.c recording
 * the reply.
 *
 * Asserted: a head is judged as its bytes come (a prefix never says
 * more than the whole); one passed whole ends in an empty line and
 * holds no NUL and no bare CR; a refused one gets a 4xx/5xx HTTP/1.1
 * answer that fits web_peek.c's buffer, with a JSON body; a Location
 * is one clean header line. A request is answered exactly once, with
 * well-formed header lines, CORS only for the listed origin and JSON
 * that parses; a handler runs only for its method and path, with the
 * token it needs, an allowed origin and (API_JSON) an object body.
 *
 * Each input gets a router of its own, so nothing outlives it.
 */

#include <ctype.h>
#include <assert.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "sipphone.h"
#include "web/webpriv.h"
#include "webstub.h"
#include "fuzz.h"


static const struct web_head_lim head_lim = {
	.data = WEB_HEAD_DATA,
	.frags = WSI_TOKEN_COUNT,
};

static const char token[] = "3q2-7wAAsecrettokenAAAAAAAAAAAAA";
static const char origin_listed[] = "https://app.example";


/* What a stub handler answers */
enum answer {
	ANS_JSON,       /* the path parameters and the body, as JSON     */
	ANS_LIST,       /* ?limit, ?after and ?q                         */
	ANS_TEXT,       /* text/plain                                    */
	ANS_RAW,        /* api_reply_raw(): our own headers, binary body */
	ANS_FAIL,       /* api_fail() with a described error             */
	ANS_TWICE,      /* answers, then tries again                     */
};

struct fz_route {
	const char *met;
	const char *pattern;
	unsigned flags;
	enum answer ans;
};

static const struct fz_route routev[] = {
	{"GET",    "/",                          API_PUBLIC,  ANS_RAW},
	{"GET",    "/app.js",                    API_PUBLIC,  ANS_RAW},
	{"GET",    "/healthz",                   API_PUBLIC,  ANS_TEXT},
	{"GET",    "/open",                      0,           ANS_TEXT},
	{"GET",    "/metrics",            API_TOKEN | API_LOOPBACK, ANS_TEXT},
	{"GET",    "/metrics/all",               API_TOKEN,   ANS_TEXT},
	{"GET",    "/api/v1/health",             API_LOOPBACK, ANS_TWICE},
	{"GET",    "/api/v1/status",             API_PUBLIC,  ANS_JSON},
	{"GET",    "/api/v1/calls",              0,           ANS_LIST},
	{"POST",   "/api/v1/calls",              API_JSON,    ANS_JSON},
	{"GET",    "/api/v1/calls/{call}",       0,           ANS_JSON},
	{"DELETE", "/api/v1/calls/{call}",       0,           ANS_FAIL},
	{"POST",   "/api/v1/calls/{call}/dtmf",  API_JSON,    ANS_JSON},
	{"GET",    "/api/v1/lines/{line}/calls/{call}", 0,    ANS_JSON},
	{"GET",    "/api/v1/events",             0,           ANS_LIST},
	{"POST",   "/api/v1/log",                API_JSON,    ANS_TEXT},
	{"POST",   "/api/v1/webhooks/{webhook}/test", API_JSON, ANS_JSON},
};

static const char *const paramv[] = {"call", "line", "webhook"};

static const uint8_t raw_body[] = {'G', 'I', 'F', 0, 0xff, '\n'};
static const char raw_hdrs[] = "Cache-Control: no-cache\r\n";


/* One input's router, and what its handler saw */
static struct {
	struct auth *auth;
	struct api *api;
	const struct fz_route *ran;   /* the handler that ran, or NULL */
} fz;


/* A request as read loosely from the input (pointers into a copy) */
struct fz_req {
	char *met;
	char *path;
	char *query;
	char *ver;
	char *clen;
	char *host;
	char *authz;
	char *origin;
	char *ctype;
	char *peer;
	const uint8_t *body;
	size_t blen;
};


/*
 * Request heads
 */

/* The answer to a refused head, as web_peek.c sends it */
static void error_check(const struct sp_err *e)
{
	char buf[512], *body, *small;
	json_t *j;
	int n;

	assert(e->status >= 400 && e->status <= 599);
	assert(*web_head_reason(e->status));
	assert(e->code && *e->code && *e->msg);

	n = web_head_error(buf, sizeof(buf), e);
	assert(n > 0 && (size_t)n == strlen(buf));
	assert(!strncmp(buf, "HTTP/1.1 ", 9));
	assert((unsigned)atoi(buf + 9) == e->status);

	body = strstr(buf, "\r\n\r\n");
	assert(body);
	body += 4;
	assert(strstr(buf, "Connection: close\r\n"));
	assert((size_t)atoi(strstr(buf, "Content-Length: ") + 16) ==
	       strlen(body));

	j = json_loads(body, 0, NULL);
	assert(j);
	assert(!str_cmp(e->code, json_string_value(json_object_get(
				json_object_get(j, "error"), "code"))));
	json_decref(j);

	/* a buffer one byte short is refused, never overrun */
	small = mem_alloc(n, NULL);
	if (small) {
		assert(web_head_error(small, n, e) == -1);
		mem_deref(small);
	}
}


/* A head that lws may read: whole, lines ending in LF, no NUL, no bare
   CR, and one lws's header table holds */
static void head_ok_check(const uint8_t *p, size_t len)
{
	size_t i;

	assert(len >= 2 && len + 2 <= head_lim.data);
	assert(p[len - 1] == '\n');
	assert(p[len - 2] == '\n' ||
	       (len >= 3 && p[len - 2] == '\r' && p[len - 3] == '\n'));
	assert(!memchr(p, '\0', len));

	for (i = 0; i < len; i++)
		assert(p[i] != '\r' || (i + 1 < len && p[i + 1] == '\n'));
}


/* The first m bytes of a head that was judged r (len) whole: a head is
   judged as its bytes come, so they agree */
static void prefix_check(const uint8_t *p, size_t m, enum web_head_res r,
			 size_t len)
{
	enum web_head_res rm;
	struct sp_err e;
	size_t lenm = 0;

	memset(&e, 0, sizeof(e));
	rm = web_head_check(p, m, &head_lim, &lenm, &e);

	switch (r) {

	case WEB_HEAD_OK:
		if (m >= len)
			assert(rm == WEB_HEAD_OK && lenm == len);
		else
			assert(rm == WEB_HEAD_MORE);
		break;

	case WEB_HEAD_MORE:
		assert(rm == WEB_HEAD_MORE);
		break;

	default:
		assert(rm == WEB_HEAD_MORE || rm == r);
		break;
	}
}


static void head_check(const uint8_t *p, size_t n)
{
	enum web_head_res r;
	struct sp_err e;
	size_t len = 0;

	memset(&e, 0, sizeof(e));
	r = web_head_check(p, n, &head_lim, &len, &e);

	switch (r) {

	case WEB_HEAD_MORE:
		assert(n + 2 <= head_lim.data);
		break;

	case WEB_HEAD_OK:
		assert(len <= n);
		head_ok_check(p, len);
		prefix_check(p, len, r, len);
		prefix_check(p, len - 1, r, len);
		break;

	case WEB_HEAD_BAD:
		assert(e.status == 400 || e.status == 414 ||
		       e.status == 431 || e.status == 505);
		error_check(&e);
		break;

	case WEB_HEAD_NOT_HTTP:
		assert(e.status == 400 || e.status == 501);
		error_check(&e);
		break;

	default:
		assert(false);
	}

	/* the last byte says where a third cut is */
	if (n) {
		prefix_check(p, n - 1, r, len);
		prefix_check(p, n / 2, r, len);
		prefix_check(p, n * p[n - 1] / 256, r, len);
	}
}


static void not_http_check(const uint8_t *p, size_t n)
{
	struct sp_err e;
	int tls;

	for (tls = 0; tls < 2; tls++) {
		memset(&e, 0, sizeof(e));
		web_head_not_http(p, n, tls, &e);

		assert(e.status == 400 || e.status == 501);
		assert(e.status != 501 || (n && isupper(p[0])));
		error_check(&e);
	}
}


/* "HTTP/d.d" */
static bool ver_form(const char *v)
{
	return strlen(v) == 8 && !memcmp(v, "HTTP/", 5) &&
		isdigit((uint8_t)v[5]) && v[6] == '.' &&
		isdigit((uint8_t)v[7]);
}


static void version_check(const char *ver)
{
	struct sp_err e;
	int err;

	memset(&e, 0, sizeof(e));
	err = web_head_version(ver, &e);

	if (!err) {
		assert(ver_form(ver) && ver[5] == '1');
		return;
	}

	assert(err == EPROTO);
	assert(e.status == (ver_form(ver) ? 505 : 400));
	error_check(&e);
}


static void clen_check(const char *s)
{
	size_t len = 0, digits = strspn(s, "0123456789");
	size_t zeros = strspn(s, "0");
	size_t sig = digits - zeros;     /* digits after leading zeros */
	struct sp_err e;
	int err;

	memset(&e, 0, sizeof(e));
	err = web_head_clen(s, API_BODY_MAX, &len, &e);

	switch (err) {

	case 0:
		assert(digits && !s[digits] && len <= API_BODY_MAX);
		assert(sig <= 5 && len == strtoull(s, NULL, 10));

		/* a reason phrase only for a status we send */
		if (*web_head_reason((uint16_t)len))
			assert(len >= 200 && len <= 599);
		break;

	case EBADMSG:
		assert(!digits || s[digits]);
		assert(e.status == 400);
		error_check(&e);
		break;

	case EOVERFLOW:
		assert(digits && !s[digits]);
		assert(sig > 18 || strtoull(s, NULL, 10) > API_BODY_MAX);
		assert(e.status == 413);
		error_check(&e);
		break;

	default:
		assert(false);
	}
}


/* "Location: https://" host, then only printable bytes, one CRLF */
static void location_check(const char *host, const char *path,
			   const char *query)
{
	char *hdr = NULL;
	size_t i, n;
	int err;

	err = web_head_location(&hdr, host, path, query);
	if (err) {
		assert(err == EINVAL && !hdr);
		return;
	}

	n = strlen(hdr);
	assert(!strncmp(hdr, "Location: https://", 18));
	assert(!strncmp(hdr + 18, host, strlen(host)));
	assert(n >= 20 && !strcmp(hdr + n - 2, "\r\n"));

	for (i = 10; i < n - 2; i++)
		assert(hdr[i] > 0x20 && hdr[i] < 0x7f);

	mem_deref(hdr);
}


/*
 * The loose reading of a request
 */

/* The next line from *posp, its CR and LF cut; NULL at the end */
static char *line_next(char *s, size_t n, size_t *posp)
{
	char *line = s + *posp;
	char *lf;
	size_t end;

	if (*posp >= n)
		return NULL;

	lf = memchr(line, '\n', n - *posp);
	end = lf ? (size_t)(lf - s) : n;
	*posp = end + 1;

	s[end] = '\0';
	if (end > 0 && s[end - 1] == '\r' && s + end - 1 >= line)
		s[end - 1] = '\0';

	return line;
}


static void hdr_take(struct fz_req *r, char *line)
{
	const struct {
		const char *name;
		char **vp;
	} hdrv[] = {
		{"content-length", &r->clen},
		{"host",           &r->host},
		{"authorization",  &r->authz},
		{"origin",         &r->origin},
		{"content-type",   &r->ctype},
		{"x-peer",         &r->peer},
	};
	char *colon = strchr(line, ':');
	size_t i;

	if (!colon)
		return;
	*colon++ = '\0';

	/* lws keeps a value without the spaces before it */
	colon += strspn(colon, " \t");

	/* the first of several is the one read */
	for (i = 0; i < ARRAY_SIZE(hdrv); i++) {
		if (!str_casecmp(line, hdrv[i].name) && !*hdrv[i].vp) {
			*hdrv[i].vp = colon;
			return;
		}
	}
}


/* Read the copy s (n bytes and a NUL) of the input p */
static void req_read(struct fz_req *r, char *s, const uint8_t *p, size_t n)
{
	size_t pos = 0;
	char *line, *sp;

	memset(r, 0, sizeof(*r));

	line = line_next(s, n, &pos);
	if (!line)
		return;

	/* METHOD SP target SP version */
	r->met = line;
	sp = strchr(line, ' ');
	if (sp) {
		*sp++ = '\0';
		r->path = sp;
		sp = strchr(sp, ' ');
		if (sp) {
			*sp++ = '\0';
			r->ver = sp;
		}
		sp = strchr(r->path, '?');
		if (sp) {
			*sp++ = '\0';
			r->query = sp;
		}
	}

	while ((line = line_next(s, n, &pos)) && *line)
		hdr_take(r, line);

	if (line && pos < n) {
		r->body = p + pos;
		r->blen = n - pos;
	}
}


/*
 * The router
 */

static bool peer_loopback(const struct sa *sa)
{
	const uint8_t *a;

	switch (sa_af(sa)) {

	case AF_INET:
		return ((const uint8_t *)&sa->u.in.sin_addr)[0] == 127;

	case AF_INET6:
		a = sa->u.in6.sin6_addr.s6_addr;
		if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
			return a[12] == 127;
		return !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);

	default:
		return false;
	}
}


/* What the route's handler may only see with a valid token (api.h) */
static bool token_needed(const struct fz_route *rt, const char *path)
{
	if (rt->flags & API_PUBLIC)
		return false;

	if (!(rt->flags & API_TOKEN) && strncmp(path, "/api/", 5))
		return false;

	return !(rt->flags & API_LOOPBACK) || !peer_loopback(&webstub_peer);
}


/*
 * Does a path name a pattern's resource, as api.h says: "{name}" is any
 * one segment, not empty; a trailing slash adds no segment
 */
static bool path_matches(const char *pat, const char *path)
{
	size_t pl, tl;

	if (!strcmp(pat, "/"))
		pat = "";

	for (;;) {
		/* both at a '/', or at their ends */
		if (!*pat)
			return !*path || !strcmp(path, "/");
		if (*path != '/' || !strcmp(path, "/"))
			return false;

		++pat;
		++path;
		pl = strcspn(pat, "/");
		tl = strcspn(path, "/");

		if (pl > 2 && pat[0] == '{' && pat[pl - 1] == '}') {
			if (!tl)
				return false;
		}
		else if (pl != tl || memcmp(pat, path, pl)) {
			return false;
		}

		pat += pl;
		path += tl;
	}
}


static void answer_json(struct api_req *req)
{
	json_t *j = json_object();
	size_t i;

	for (i = 0; j && i < ARRAY_SIZE(paramv); i++) {
		const char *v = api_param(req, paramv[i]);

		if (v && json_object_set_new(j, paramv[i], json_string(v))) {
			/* not UTF-8: no JSON string */
			json_decref(j);
			api_error(req, 400, "invalid_id", "not UTF-8");
			return;
		}
	}

	if (j && req->body)
		json_object_set(j, "body", req->body);

	/* the reply holds what the handler gave, as it was */
	json_incref(j);
	if (!api_reply(req, 200, j)) {
		json_t *got = json_loadb(webstub_rep.body, webstub_rep.blen,
					 0, NULL);

		assert(json_equal(got, j));
		json_decref(got);
	}
	json_decref(j);
}


static void answer_list(struct api_req *req)
{
	uint64_t after = 0;
	size_t limit = 0;
	struct pl q = PL_INIT;
	json_t *j;

	if (api_limit(req, &limit))
		return;
	assert(limit <= API_LIMIT_MAX);

	if (api_query_u64(req, "after", &after)) {
		api_error(req, 400, "invalid_query", "after must be a number");
		return;
	}

	(void)api_query(req, "q", &q);

	j = json_pack("{s:I,s:I,s:s%}", "limit", (json_int_t)limit,
		      "after", (json_int_t)after, "q", q.p ? q.p : "", q.l);
	if (!j) {
		api_error(req, 400, "invalid_query", "q is not UTF-8");
		return;
	}

	api_reply(req, 200, j);
}


static void answer(struct api_req *req, const struct fz_route *rt)
{
	struct sp_err e;
	int err = 0;

	switch (rt->ans) {

	case ANS_JSON:
		answer_json(req);
		break;

	case ANS_LIST:
		answer_list(req);
		break;

	case ANS_TEXT:
		err = api_reply_text(req, 200, "text/plain", "%s\n",
				     rt->pattern);
		break;

	case ANS_RAW:
		err = api_reply_raw(req, 200, raw_hdrs, "image/gif", raw_body,
				    sizeof(raw_body));
		break;

	case ANS_FAIL:
		sp_err_set(&e, 409, "call_busy", "call %s is busy",
			   api_param(req, "call"));
		err = api_fail(req, &e);
		break;

	case ANS_TWICE:
		err = api_reply_text(req, 200, "text/plain", "ok\n");
		assert(!err);
		err = api_error(req, 500, "again", "again");
		assert(err == EALREADY);
		err = 0;
		break;
	}

	assert(!err);
}


/* Every handler: checks what the router let through, then answers */
static void route_h(struct api_req *req, void *arg)
{
	const struct fz_route *rt = arg;
	const struct web_req *wr = req->wr;
	size_t i;

	assert(!fz.ran);
	fz.ran = rt;

	/* lws hands us a path that begins with '/' (the router makes any
	   other the root "/") */
	assert(!str_casecmp(rt->met, wr->met));
	if (wr->path[0] == '/')
		assert(path_matches(rt->pattern, wr->path));
	assert(auth_origin_ok(fz.auth, wr->origin, wr->host));
	if (token_needed(rt, wr->path))
		assert(auth_bearer_ok(fz.auth, wr->authz));

	if (rt->flags & API_JSON)
		assert(json_is_object(req->body));
	else
		assert(!req->body);

	for (i = 0; i < ARRAY_SIZE(paramv); i++) {
		const char *v = api_param(req, paramv[i]);
		char braced[16];

		re_snprintf(braced, sizeof(braced), "{%s}", paramv[i]);
		assert(!v == !strstr(rt->pattern, braced));
		if (v)
			assert(*v && !strchr(v, '/') && strstr(wr->path, v));
	}

	answer(req, rt);
}


static int router_make(void)
{
	size_t i;
	int err;

	err = auth_alloc(&fz.auth);
	if (err)
		return err;

	err  = auth_add_token(fz.auth, token);
	err |= auth_add_origin(fz.auth, origin_listed);
	err |= api_alloc(&fz.api, fz.auth);

	for (i = 0; !err && i < ARRAY_SIZE(routev); i++) {
		err = api_route(fz.api, routev[i].met, routev[i].pattern,
				routev[i].flags, route_h, (void *)&routev[i]);
	}

	return err;
}


/* Header lines "Name: value\r\n", nothing else */
static void hdrs_check(const char *h)
{
	while (*h) {
		const char *crlf = strstr(h, "\r\n");
		size_t name = strspn(h, "abcdefghijklmnopqrstuvwxyz"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");

		assert(crlf && name && h[name] == ':' && h[name + 1] == ' ');
		for (; h < crlf; h++)
			assert((uint8_t)*h >= 0x20 && *h != 0x7f);
		h = crlf + 2;
	}
}


/* The one reply to a request */
static void reply_check(const struct web_req *wr)
{
	const struct webstub_reply *rep = &webstub_rep;
	const char *acao;
	json_t *j, *code;

	assert(rep->calls == 1);
	assert(rep->status >= 200 && rep->status <= 599);
	assert(*web_head_reason(rep->status));
	assert(rep->hdrs);
	hdrs_check(rep->hdrs);

	if (fz.ran && fz.ran->ans == ANS_RAW) {
		assert(!strcmp(rep->hdrs, raw_hdrs));
		return;
	}

	assert(!strncmp(rep->hdrs, "Cache-Control: no-store\r\n", 25));

	/* CORS only for a listed origin, and only that origin */
	acao = strstr(rep->hdrs, "Access-Control-Allow-Origin: ");
	if (acao) {
		assert(wr->origin && auth_origin_listed(fz.auth, wr->origin));
		acao += 29;
		assert(!strncmp(acao, wr->origin, strlen(wr->origin)));
		assert(!strncmp(acao + strlen(wr->origin), "\r\n", 2));
	}

	if (rep->status == 401)
		assert(strstr(rep->hdrs, "WWW-Authenticate: Bearer\r\n"));
	if (rep->status == 405)
		assert(strstr(rep->hdrs, "\r\nAllow: "));
	if (rep->status == 204)
		assert(!rep->body && !rep->ctype);

	if (!rep->ctype || strcmp(rep->ctype, "application/json"))
		return;

	j = json_loadb(rep->body, rep->blen, 0, NULL);
	assert(j);

	if (rep->status >= 400) {
		code = json_object_get(json_object_get(j, "error"), "code");
		assert(json_is_string(code));
	}

	json_decref(j);
}


/* The client's address: an IPv4 client on a dual-stack socket is
   ::ffff:a.b.c.d, as lws gives it (sa_set_str() would make it IPv4) */
static void peer_set(const char *addr)
{
	uint8_t a6[16];
	struct in_addr a4;

	if (addr && inet_pton(AF_INET6, addr, a6) == 1)
		sa_set_in6(&webstub_peer, a6, 40000);
	else if (addr && inet_pton(AF_INET, addr, &a4) == 1)
		sa_set_in(&webstub_peer, ntohl(a4.s_addr), 40000);
	else
		sa_set_str(&webstub_peer, "192.0.2.7", 40000);
}


static void route_check(const struct fz_req *r)
{
	struct web_req wr;

	fz.ran = NULL;
	webstub_clear();
	peer_set(r->peer);

	memset(&wr, 0, sizeof(wr));
	wr.met = r->met;
	wr.path = r->path;
	wr.query = r->query ? r->query : "";
	wr.authz = r->authz;
	wr.origin = r->origin;
	wr.host = r->host;
	wr.ctype = r->ctype;

	if (r->blen) {
		wr.body = mbuf_alloc(r->blen);
		if (!wr.body || mbuf_write_mem(wr.body, r->body, r->blen))
			goto out;
		wr.body->pos = 0;
	}

	api_handle(&wr, fz.api);
	reply_check(&wr);

 out:
	mem_deref(wr.body);
	webstub_clear();
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_req r;
	char *s;

	head_check(data, size);
	not_http_check(data, size);

	s = fuzz_str(data, size);
	if (!s)
		return 0;

	req_read(&r, s, data, size);

	if (r.ver)
		version_check(r.ver);
	if (r.clen)
		clen_check(r.clen);
	if (r.path)
		location_check(r.host, r.path, r.query);

	/* lws hands the router only a request with a method and a path */
	if (r.met && r.path && !router_make())
		route_check(&r);

	fz.api = mem_deref(fz.api);
	fz.auth = mem_deref(fz.auth);
	mem_deref(s);

	return 0;
}
