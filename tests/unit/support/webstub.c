/**
 * @file webstub.c  Stand-ins for the web server's reply functions
 *
 * web_vreply() and web_reply() record the reply (webstub_rep) instead
 * of writing it, so a test of api.c sees exactly what the server would
 * have sent; web_conn_peer() returns webstub_peer for any connection.
 * Shared by tests/unit/core/web/test_api.c and tests/fuzz/fuzz_http.c.
 *
 * Threads: one (the test's).
 */

#include "sipphone.h"
#include "webstub.h"


struct webstub_reply webstub_rep;
struct sa webstub_peer;


/** Free the recorded reply and forget it (the peer stays) */
void webstub_clear(void)
{
	mem_deref(webstub_rep.hdrs);
	mem_deref(webstub_rep.ctype);
	mem_deref(webstub_rep.body);
	memset(&webstub_rep, 0, sizeof(webstub_rep));
}


int web_vreply(struct web_conn *conn, uint16_t status, const char *hdrs,
	       const char *ctype, const char *fmt, va_list ap)
{
	struct webstub_reply *rep = &webstub_rep;
	struct mbuf *mb;
	int calls = rep->calls;
	int err = 0;
	(void)conn;

	webstub_clear();
	rep->status = status;
	rep->calls = calls + 1;

	err = str_dup(&rep->hdrs, hdrs ? hdrs : "");
	if (ctype)
		err |= str_dup(&rep->ctype, ctype);
	if (err || !fmt)
		return err;

	mb = mbuf_alloc(64);
	if (!mb)
		return ENOMEM;

	err = mbuf_vprintf(mb, fmt, ap);
	if (!err) {
		rep->blen = mb->end;
		mb->pos = 0;
		err = mbuf_strdup(mb, &rep->body, mb->end);
	}
	mem_deref(mb);

	return err;
}


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


const struct sa *web_conn_peer(const struct web_conn *conn)
{
	(void)conn;

	return &webstub_peer;
}
