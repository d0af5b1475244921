/**
 * @file web_head.c  Request heads as text: the check before lws reads
 *                   one, and the small parsers and builders of our HTTP
 *                   handling that need no socket
 *
 * lws 4.1 answers some malformed requests itself, before any callback of
 * ours, and not as we answer: "HTTP/1.0 403" with an HTML page for a bad
 * %-escape in the target, a target that is not a path ("http://x/",
 * "*") or an Upgrade other than websocket; a silent close for a head its
 * header table cannot hold (lim.data bytes, lim.frags pieces: every
 * header, the path, each part of the query). So web.c reads each request
 * head of a plain connection before lws does (a peek), and
 * web_head_check() finds what lws would refuse, and what RFC 9112 says
 * a server must refuse (a header line that is not "name: value", a bare
 * CR, a NUL), so that it is answered as every error is: HTTP/1.1, a JSON
 * body, Connection: close.
 *
 * The check is stricter than lws, never looser: a head it lets through
 * is one lws parses without a word of its own. lws's header table holds
 * the decoded target, each header's value with a NUL, and for a header
 * it does not know 8 bytes and the name too: at most the raw head plus
 * HDR_EXTRA bytes a line and a piece of query, which is what
 * web_head_check() counts against lim.data.
 *
 * Everything here is pure: tests/fuzz/fuzz_http.c feeds it.
 *
 * Threads: any (no state).
 */

#include <ctype.h>
#include <strings.h>
#include "sipphone.h"
#include "web_head.h"


enum {
	HEAD_METHOD_MAX = 16,  /* longest token we take for a method     */
	HDR_EXTRA = 10,     /* lws stores this more than a line's bytes */
	SLACK = 16,         /* the version, NULs of the target          */
};


/* Where the scan of a head is */
struct scan {
	const uint8_t *p;
	size_t n;
	size_t i;                /* next byte                         */
	size_t lines;            /* header lines so far               */
	size_t parts;            /* '?', '&', ';' in the target       */
	const struct web_head_lim *lim;
};


static bool is_tchar(uint8_t c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}


static bool is_hex(uint8_t c)
{
	return isxdigit(c) != 0;
}


/* Would lws's header table overflow with the head as far as s->i? */
static bool over(const struct scan *s)
{
	size_t data = s->i + (s->lines + 1) * HDR_EXTRA + s->parts + SLACK;

	return data + 2 > s->lim->data ||
		s->lines + s->parts + 4 > s->lim->frags;
}


static enum web_head_res bad(struct sp_err *e, uint16_t status,
			     const char *code, const char *msg)
{
	sp_err_set(e, status, code, "%s", msg);

	return WEB_HEAD_BAD;
}


static bool method_known(const uint8_t *m, size_t len)
{
	static const char *const metv[] = {
		"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(metv); i++) {
		if (len == strlen(metv[i]) && !memcmp(m, metv[i], len))
			return true;
	}

	return false;
}


/* The method: ours, or a first line that is no request we serve */
static enum web_head_res scan_method(struct scan *s, struct sp_err *e)
{
	const uint8_t *lf;
	size_t i;

	for (i = 0; i < s->n && (isupper(s->p[i]) || s->p[i] == '-' ||
				 s->p[i] == '_'); i++)
		;

	if (i == s->n && i <= HEAD_METHOD_MAX)
		return WEB_HEAD_MORE;

	if (i && i <= HEAD_METHOD_MAX && s->p[i] == ' ' && method_known(s->p, i)) {
		s->i = i + 1;
		return WEB_HEAD_OK;
	}

	/* 501 or 400 depends on the whole first line */
	lf = memchr(s->p, '\n', s->n);
	if (i && i <= HEAD_METHOD_MAX && s->p[i] == ' ' && !lf &&
	    s->n + 2 <= s->lim->data)
		return WEB_HEAD_MORE;

	web_head_not_http(s->p, lf ? (size_t)(lf - s->p) : s->n, false, e);

	return WEB_HEAD_NOT_HTTP;
}


/* The request target: a path and query, each %-escape whole */
static enum web_head_res scan_target(struct scan *s, struct sp_err *e)
{
	const uint8_t *p = s->p;

	if (s->i >= s->n)
		return WEB_HEAD_MORE;

	if (p[s->i] != '/')
		return bad(e, 400, "bad_request", "the request target must be"
			   " a path (\"/...\")");

	for (; s->i < s->n; s->i++) {
		uint8_t c = p[s->i];

		if (over(s))
			return bad(e, 414, "uri_too_long", "the request target"
				   " is too long");

		if (c == ' ')
			return WEB_HEAD_OK;

		if (c == '\r' || c == '\n')
			return bad(e, 400, "bad_request", "the request line has"
				   " no HTTP version");

		if (c < 0x20 || c == 0x7f)
			return bad(e, 400, "bad_request", "a control character"
				   " in the request target");

		if (c == '?' || c == '&' || c == ';')
			++s->parts;

		if (c != '%')
			continue;

		/* a fault is found as soon as its bytes are in: lws never
		   gets a head with one, whole or not */
		if ((s->i + 1 < s->n && !is_hex(p[s->i + 1])) ||
		    (s->i + 2 < s->n && !is_hex(p[s->i + 2])))
			return bad(e, 400, "bad_request", "a bad %-escape in"
				   " the request target");

		if (s->i + 2 >= s->n)
			return WEB_HEAD_MORE;

		if (p[s->i + 1] == '0' && p[s->i + 2] == '0')
			return bad(e, 400, "bad_request", "%00 in the request"
				   " target");

		s->i += 2;
	}

	return WEB_HEAD_MORE;
}


/* " HTTP/d.d" and the line's end */
static enum web_head_res scan_version(struct scan *s, struct sp_err *e)
{
	static const char form[] = " HTTP/d.d";
	const uint8_t *p = s->p + s->i;
	size_t left = s->n - s->i;
	char ver[9];
	size_t i;

	for (i = 0; i < sizeof(form) - 1; i++) {
		if (i == left)
			return WEB_HEAD_MORE;

		if (form[i] == 'd' ? !isdigit(p[i]) : p[i] != form[i])
			return bad(e, 400, "bad_request", "the request line is"
				   " not METHOD /path HTTP/1.1");
	}

	memcpy(ver, p + 1, 8);
	ver[8] = '\0';
	if (web_head_version(ver, e))
		return WEB_HEAD_BAD;

	if (i == left || (p[i] == '\r' && i + 1 == left))
		return WEB_HEAD_MORE;

	if (p[i] == '\r')
		++i;
	if (p[i] != '\n')
		return bad(e, 400, "bad_request", "the request line is not"
			   " METHOD /path HTTP/1.1");

	s->i += i + 1;

	return WEB_HEAD_OK;
}


/*
 * The strings lws 4.1.6 matches a header line's start against, lower
 * case (lib/roles/http/lextable-strings.h, with the options Debian builds
 * it with; those starting with ':' cannot start a field name): a name
 * with ':' is a header lws knows; the others are methods and the like.
 */
static const char *const lws_names[] = {
	"get ", "post ", "options ", "host:", "connection:", "upgrade:",
	"origin:", "sec-websocket-draft:", "sec-websocket-extensions:",
	"sec-websocket-key1:", "sec-websocket-key2:",
	"sec-websocket-protocol:", "sec-websocket-accept:",
	"sec-websocket-nonce:", "http/1.1 ", "http2-settings:", "accept:",
	"access-control-request-headers:", "if-modified-since:",
	"if-none-match:", "accept-encoding:", "accept-language:", "pragma:",
	"cache-control:", "authorization:", "cookie:", "content-length:",
	"content-type:", "date:", "range:", "referer:", "sec-websocket-key:",
	"sec-websocket-version:", "sec-websocket-origin:", "accept-charset:",
	"accept-ranges:", "access-control-allow-origin:", "age:", "allow:",
	"content-disposition:", "content-encoding:", "content-language:",
	"content-location:", "content-range:", "etag:", "expect:", "expires:",
	"from:", "if-match:", "if-range:", "if-unmodified-since:",
	"last-modified:", "link:", "location:", "max-forwards:",
	"proxy-authenticate:", "proxy-authorization:", "refresh:",
	"retry-after:", "server:", "set-cookie:", "strict-transport-security:",
	"transfer-encoding:", "user-agent:", "vary:", "via:",
	"www-authenticate:", "patch", "put", "delete", "uri-args", "proxy ",
	"x-real-ip:", "http/1.0 ", "x-forwarded-for:", "connect ", "head ",
	"te:", "replay-nonce:", "x-auth-token:",
};


/*
 * Does lws read a field of this name as one header? lws walks the name
 * and its ':' down a tree of lws_names[]: a header it knows ends on an
 * entry's ':'; one it does not must leave the tree before the ':'. A
 * name that ends inside an entry ("X", "X-Auth", "Content") glues its
 * line and the next ones into one name: the head never ends, or a later
 * header (Origin, say) is lost. A name that passes an entry without ':'
 * ("Deleted") is taken for a method and its value for a second target.
 */
static bool name_ok(const uint8_t *name, size_t len)
{
	bool inside = false;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lws_names); i++) {
		const char *e = lws_names[i];
		size_t elen = strlen(e);
		char last = e[elen - 1];

		if (len < elen && !strncasecmp((const char *)name, e, len)) {
			if (last == ':' && len == elen - 1)
				return true;  /* known */
			inside = true;
		}
		else if (last != ':' && last != ' ' &&
			 !strncasecmp((const char *)name, e, elen)) {
			return false;
		}
	}

	return !inside;
}


/* An Upgrade lws takes without a word of its own: websocket, as it is */
static bool upgrade_ok(const uint8_t *v, size_t len)
{
	/* lws skips the spaces before a value, and keeps the rest */
	while (len && *v == ' ') {
		++v;
		--len;
	}

	return !len || (len == 9 && !strncasecmp((const char *)v,
						  "websocket", 9));
}


/* One header line, or the empty line that ends the head */
static enum web_head_res scan_line(struct scan *s, bool *endp,
				   struct sp_err *e)
{
	const uint8_t *p = s->p;
	size_t name, val, i = s->i;
	bool upgrade;

	*endp = false;

	if (i == s->n || (p[i] == '\r' && i + 1 == s->n))
		return WEB_HEAD_MORE;

	if (p[i] == '\r' || p[i] == '\n') {
		if (p[i] == '\r' && p[++i] != '\n')
			return bad(e, 400, "bad_request", "a CR without LF in"
				   " the request head");
		s->i = i + 1;
		*endp = true;
		return WEB_HEAD_OK;
	}

	name = i;
	for (; i < s->n && is_tchar(p[i]); i++)
		;
	if (i == s->n)
		return WEB_HEAD_MORE;
	if (i == name || p[i] != ':')
		return bad(e, 400, "bad_request", "a header line is not"
			   " \"Name: value\"");

	if (!name_ok(p + name, i - name))
		return bad(e, 400, "bad_request", "a header name this server"
			   " cannot read (it begins a standard one): rename it");

	upgrade = i - name == 7 && !strncasecmp((const char *)p + name,
						"upgrade", 7);

	for (val = ++i; i < s->n && p[i] != '\n'; i++) {
		s->i = i;
		if (over(s))
			return bad(e, 431, "headers_too_large", "the request"
				   " head is too large");

		if (!p[i])
			return bad(e, 400, "bad_request", "a NUL byte in a"
				   " header");

		if (p[i] == '\r' && i + 1 < s->n && p[i + 1] != '\n')
			return bad(e, 400, "bad_request", "a CR without LF in"
				   " the request head");
	}

	if (i == s->n)
		return WEB_HEAD_MORE;

	if (upgrade && !upgrade_ok(p + val, i - val - (p[i - 1] == '\r')))
		return bad(e, 400, "bad_request", "Upgrade: only websocket is"
			   " spoken here");

	s->i = i + 1;
	++s->lines;
	if (over(s))
		return bad(e, 431, "headers_too_large", "the request head is"
			   " too large");

	return WEB_HEAD_OK;
}


/**
 * Check a request head, as far as it came, before lws reads it
 *
 * @param p     The bytes received so far, from the head's first byte
 * @param n     Their number
 * @param lim   What lws can hold of a head
 * @param lenp  Returned with WEB_HEAD_OK: the head's length, empty line
 *              included
 * @param e     Returned with WEB_HEAD_BAD (400, 414, 431 or 505) and
 *              WEB_HEAD_NOT_HTTP (400, 501): the answer
 *
 * @return WEB_HEAD_MORE while no fault is found in an incomplete head
 *         (never for lim->data bytes or more), WEB_HEAD_OK for a whole
 *         head lws may read, WEB_HEAD_BAD or WEB_HEAD_NOT_HTTP for one
 *         to refuse
 */
enum web_head_res web_head_check(const uint8_t *p, size_t n,
				 const struct web_head_lim *lim,
				 size_t *lenp, struct sp_err *e)
{
	struct scan s;
	enum web_head_res r;
	bool end = false;

	if (!p || !lim || !lenp || !e)
		return WEB_HEAD_MORE;

	memset(&s, 0, sizeof(s));
	s.p = p;
	s.n = n;
	s.lim = lim;

	r = scan_method(&s, e);
	if (r == WEB_HEAD_OK)
		r = scan_target(&s, e);
	if (r == WEB_HEAD_OK)
		r = scan_version(&s, e);

	while (r == WEB_HEAD_OK && !end)
		r = scan_line(&s, &end, e);

	if (r == WEB_HEAD_OK)
		*lenp = s.i;

	/* what lws could not hold is refused before it comes whole */
	if (r == WEB_HEAD_MORE && n + 2 > lim->data)
		r = bad(e, 431, "headers_too_large", "the request head is too"
			" large");

	return r;
}


/* "TOKEN SP ... HTTP/": a request line with a method we do not know */
static bool method_unknown(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i] >= 'A' && p[i] <= 'Z'; i++)
		;

	if (!i || i == n || p[i] != ' ')
		return false;

	for (; i + 6 <= n && p[i] != '\r' && p[i] != '\n'; i++) {
		if (!memcmp(p + i, " HTTP/", 6))
			return true;
	}

	return false;
}


/**
 * The answer to bytes that are no request we serve: 501 for a request
 * line with a method we do not know, 400 for anything else
 *
 * @param p         The first bytes the client sent
 * @param n         Their number
 * @param tls_port  They came to the TLS port (a TLS record there is
 *                  no mistake)
 * @param e         Returned answer
 */
void web_head_not_http(const uint8_t *p, size_t n, bool tls_port,
		       struct sp_err *e)
{
	if (p && n && method_unknown(p, n))
		sp_err_set(e, 501, "not_implemented",
			   "HTTP method not supported");
	else if (p && n && p[0] == 0x16 && !tls_port)
		sp_err_set(e, 400, "bad_request", "this port speaks plain"
			   " HTTP, not TLS: use http://");
	else
		sp_err_set(e, 400, "bad_request", "not an HTTP request");
}


/**
 * Is a request's version one we speak? HTTP/1.x is (1.0 and 1.1 as
 * themselves, a later 1.x as 1.0, as lws reads it)
 *
 * @param ver  The version as lws read it ("HTTP/1.1"), "" if none
 * @param e    Returned answer when not
 *
 * @return 0 if spoken, otherwise EPROTO
 */
int web_head_version(const char *ver, struct sp_err *e)
{
	if (!ver || strlen(ver) != 8 || memcmp(ver, "HTTP/", 5) ||
	    !isdigit((uint8_t)ver[5]) || ver[6] != '.' ||
	    !isdigit((uint8_t)ver[7])) {
		sp_err_set(e, 400, "bad_request", "the request line has no"
			   " HTTP/1.1 version");
		return EPROTO;
	}

	if (ver[5] != '1') {
		sp_err_set(e, 505, "http_version_not_supported", "this server"
			   " speaks HTTP/1.1");
		return EPROTO;
	}

	return 0;
}


/**
 * Read a Content-Length value: digits only (RFC 9110 8.6), one value
 *
 * @param s    The value as lws copied it (several headers joined by ',')
 * @param max  The largest body taken
 * @param np   Returned length
 * @param e    Returned answer when refused: 400 not a number, 413 over
 *             max
 *
 * @return 0 if success, otherwise EBADMSG or EOVERFLOW
 */
int web_head_clen(const char *s, size_t max, size_t *np, struct sp_err *e)
{
	uint64_t n = 0;
	bool big = false;

	if (!s || !isdigit((uint8_t)*s)) {
		sp_err_set(e, 400, "bad_request", "Content-Length is not a"
			   " number");
		return EBADMSG;
	}

	/* n stays at most max * 10 + 9 */
	for (; isdigit((uint8_t)*s); s++) {
		if (!big)
			n = n * 10 + (uint64_t)(*s - '0');
		if (n > max)
			big = true;
	}

	if (*s) {
		sp_err_set(e, 400, "bad_request", "Content-Length is not a"
			   " number");
		return EBADMSG;
	}

	if (big) {
		sp_err_set(e, 413, "body_too_large", "request body exceeds the"
			   " limit");
		return EOVERFLOW;
	}

	*np = (size_t)n;

	return 0;
}


/* A Host a redirect may name: a name or an address, and a port */
static bool host_valid(const char *host)
{
	size_t i, n = str_len(host);

	if (!n || n > 255)
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


/**
 * The Location of a redirect to the same URL over https
 *
 * @param hdrp   Returned "Location: https://host/path?query\r\n"
 * @param host   The request's Host
 * @param path   Its decoded path
 * @param query  Its decoded query ("" or NULL if none)
 *
 * @return 0 if success, EINVAL for a Host no redirect may name,
 *         otherwise errorcode
 */
int web_head_location(char **hdrp, const char *host, const char *path,
		      const char *query)
{
	struct mbuf *mb;
	int err;

	if (!hdrp || !path || !host_valid(host))
		return EINVAL;

	mb = mbuf_alloc(256);
	if (!mb)
		return ENOMEM;

	err  = mbuf_printf(mb, "Location: https://%s", host);
	err |= pct_encode(mb, path, "/");
	if (str_isset(query)) {
		err |= mbuf_write_u8(mb, '?');
		err |= pct_encode(mb, query, "=&");
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


/**
 * A whole error reply a connection gets before it closes: HTTP/1.1, the
 * JSON error, Connection: close
 *
 * @param buf  Buffer
 * @param sz   Its size
 * @param e    The error
 *
 * @return the reply's length, or -1 if it does not fit
 */
int web_head_error(char *buf, size_t sz, const struct sp_err *e)
{
	char body[256];
	int n;

	if (!buf || !e || re_snprintf(body, sizeof(body), "%H", sp_err_print,
				      e) < 0)
		return -1;

	n = re_snprintf(buf, sz, "HTTP/1.1 %u %s\r\n"
			"Content-Type: application/json\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			e->status, web_head_reason(e->status), strlen(body),
			body);

	return n < 0 || (size_t)n >= sz ? -1 : n;
}


/** The reason phrase of the statuses we send */
const char *web_head_reason(uint16_t status)
{
	switch (status) {

	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default:  return "";
	}
}
