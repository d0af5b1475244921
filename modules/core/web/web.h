/**
 * @file web.h  HTTP/1.1 and WebSocket server on libwebsockets, in the re loop
 *
 * Part of sipphone.h, which includes libre, jansson and bsapi.h first:
 * include that.
 *
 * Threads: main thread only.
 */

#ifndef SP_WEB_H
#define SP_WEB_H

/*
 * Web server (web.c): HTTP/1.1 on libwebsockets inside the re main loop
 */

struct web;
struct web_conn;

/** A complete HTTP request; valid until the reply is written */
struct web_req {
	struct web_conn *conn;
	const char *met;    /* "GET", "POST", ...                    */
	const char *path;   /* decoded path, no query                */
	const char *query;  /* decoded "a=1&b=2", "" if none         */
	const char *authz;  /* Authorization header, or NULL         */
	const char *origin; /* Origin header, or NULL                */
	const char *host;   /* Host header, or NULL                  */
	const char *ctype;  /* Content-Type header, or NULL          */
	struct mbuf *body;  /* request body (pos 0), NULL if none    */
};

/** What a plain-HTTP request on the TLS port gets */
enum web_tls_plain {
	WEB_TLS_PLAIN_REFUSE = 0,  /* 400 https_required, then closed   */
	WEB_TLS_PLAIN_REDIRECT,    /* a browser's GET: 307 to https://  */
	WEB_TLS_PLAIN_ALLOW,       /* served as if it came over TLS     */
};

struct web_prm {
	struct sa laddr;    /* listen address; port 0 picks one      */
	size_t body_max;    /* larger bodies are answered with 413   */
	uint32_t conn_max;       /* connections held at once, all clients */
	uint32_t conn_per_addr;  /* ... and from one client address     */
	const char *tls_cert;  /* PEM certificate (chain); NULL: no TLS */
	const char *tls_key;   /* PEM private key of tls_cert           */
	enum web_tls_plain tls_plain;
};

/** Why a connection was refused as it came (web_limit.c) */
enum web_refusal {
	WEB_REFUSE_MAX = 0,  /* conn_max connections are open          */
	WEB_REFUSE_ADDR,     /* conn_per_addr from its address are     */
	WEB_REFUSE_FD,       /* its descriptor is past what the loop
				and lws can watch                      */
	WEB_REFUSE_N
};

/** The server's connection counters */
struct web_stats {
	size_t conns;                      /* open now, WebSockets too  */
	uint64_t refused[WEB_REFUSE_N];    /* since start, by reason    */
	uint64_t accept_pauses;            /* times accept() stopped for
					      want of descriptors        */
};

typedef void (web_req_h)(const struct web_req *req, void *arg);

int web_alloc(struct web **webp, const struct web_prm *prm,
	      web_req_h *reqh, void *arg);
const struct sa *web_laddr(const struct web *web);
bool web_is_tls(const struct web *web);
void web_stats(const struct web *web, struct web_stats *st);
const char *web_refusal_name(enum web_refusal r);
const struct sa *web_conn_peer(const struct web_conn *conn);
int web_reply(struct web_conn *conn, uint16_t status, const char *hdrs,
	      const char *ctype, const char *fmt, ...);
int web_vreply(struct web_conn *conn, uint16_t status, const char *hdrs,
	       const char *ctype, const char *fmt, va_list ap);

typedef bool (web_ws_accept_h)(const struct web_req *req,
			       struct sp_err *err, void *arg);
typedef void (web_ws_open_h)(struct web_conn *conn,
			     const struct web_req *req, void *arg);
typedef void (web_ws_recv_h)(struct web_conn *conn, bool binary,
			     const uint8_t *data, size_t len, void *arg);
typedef void (web_ws_close_h)(struct web_conn *conn, uint16_t code,
			      void *arg);

struct web_ws_handlers {
	web_ws_accept_h *accepth;
	web_ws_open_h *openh;
	web_ws_recv_h *recvh;
	web_ws_close_h *closeh;
};

struct web_ws_stats {
	size_t queued_bytes;
	uint64_t sent;
	uint64_t dropped;
};

void web_set_ws(struct web *web, const struct web_ws_handlers *wsh,
		void *arg);
void web_conn_set_arg(struct web_conn *conn, void *arg);
void *web_conn_arg(const struct web_conn *conn);
int  web_ws_send(struct web_conn *conn, bool binary, bool droppable,
		 const void *data, size_t len, uint32_t *droppedp);
int  web_ws_close(struct web_conn *conn, uint16_t code, const char *reason);
void web_ws_stats(const struct web_conn *conn, struct web_ws_stats *st);

#endif
