/**
 * @file webpriv.h  Inside the web server: shared by web.c (sockets, lws
 *                  glue), web_http.c (HTTP), web_plain.c (plain HTTP on
 *                  the TLS port), web_ws.c (WebSocket) and web_tls.c
 *                  (HTTPS)
 *
 * Threads: main thread only.
 */

#include <libwebsockets.h>
#include "wsq.h"
#include "web_head.h"


enum {
	WEB_HEAD_DATA = 4096,  /* lws's header table of a request, bytes
				  (max_http_header_data; web_peek.c
				  refuses a head it could not hold)    */
	WEB_HDR_MAX = 4096,    /* longest header value we copy */
	WEB_IDLE_S = 30,       /* a kept-alive connection waits this
				  long for its next request          */
};


/** A log line that may come at most once a while (web_limit.c) */
struct web_ratelog {
	uint64_t last;              /* when the last line was logged (ms) */
	uint32_t held;              /* lines held back since              */
};


/** The server */
struct web {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct lws_protocols protov[2];
	struct list connl;          /* struct web_conn, live connections */
	struct tmr tmr_service;     /* periodic lws_service()            */
	struct tmr tmr_now;         /* lws asked for forced service      */
	struct sa laddr;
	int lfd;                    /* our listening socket              */
	size_t body_max;
	bool tls;                   /* HTTPS and WSS on this port        */
	enum web_tls_plain tls_plain;  /* what plain HTTP gets then     */
	web_req_h *reqh;
	void *arg;
	const struct web_ws_handlers *wsh;  /* NULL: no WebSocket        */
	void *wsarg;

	/* bounds (web_limit.c) */
	uint32_t conn_max;
	uint32_t conn_per_addr;
	int fd_max;                 /* a descriptor from here is refused */
	size_t nconn;               /* in connl                          */
	struct hash *addrh;         /* struct web_conn by client address */
	struct tmr tmr_accept;      /* accept() paused: no descriptors   */
	uint64_t paused_at;         /* when this pause began (ms), or 0  */
	struct web_ratelog refusal_log;
	struct web_ratelog garbage_log;
	uint64_t refused[WEB_REFUSE_N];
	uint64_t accept_pauses;
};


/**
 * The HTTP reply waiting to be written: in one buffer the connection
 * keeps from one reply to the next, its content type (NUL-terminated),
 * its extra header lines, then its body, whose write position is pos
 */
struct web_reply_st {
	uint16_t status;
	struct mbuf *mb;            /* ctype, header lines, body          */
	bool has_ctype;             /* mb starts with the content type    */
	size_t hdrs;                /* where the header lines start       */
	size_t body;                /* where the body starts (to mb->end) */
	bool head_sent;
};


/** A WebSocket's state once upgraded */
struct web_ws_st {
	bool open;                  /* ESTABLISHED, not yet CLOSED       */
	struct mbuf *rx;            /* message being reassembled         */
	bool rx_binary;
	bool rx_overflow;           /* skip the rest of a big message    */
	struct wsq txq;             /* messages out (wsq.c)              */
	uint16_t peer_code;         /* the client closed it with this    */
	uint16_t close_code;        /* we are closing it: code, reason   */
	char close_reason[64];
	void *arg;                  /* the application's session         */
};


/**
 * One client connection. Its lifetime follows the lws wsi: created on
 * accept, freed on LWS_CALLBACK_WSI_DESTROY.
 */
struct web_conn {
	struct le le;
	struct le he;               /* in web->addrh                     */
	struct web *web;
	struct lws *wsi;            /* NULL once lws destroyed it        */
	int fd;
	int fd_flags;               /* what fd_listen() was last told    */
	bool wantw;                 /* we asked lws for a writable cb    */
	bool rearm;                 /* lws parks keep-alive until POLLOUT */
	bool in_service;            /* inside conn_fd_handler()          */
	bool close_after;           /* close once the reply is out       */
	bool keep_hdr;              /* an HTTP/1.0 client asked to keep
				       the connection: say it is kept   */
	bool busy;                  /* a request is being answered       */
	bool body_done;             /* lws completed its body            */
	bool peek;                  /* its next request head is due: we
				       read it first (web_peek.c)       */
	bool served;                /* a reply went out on it            */
	bool rx_held;               /* lws's poll is kept off it until
				       its first head is checked        */
	size_t peek_len;            /* the part of a head seen, waiting
				       for the rest (SO_RCVLOWAT set)   */
	struct tmr tmr_idle;        /* kept alive with no request: close */
	struct web_req req;
	struct mbuf *reqbuf;        /* the strings req points to         */
	struct web_reply_st rep;
	struct web_ws_st ws;
	struct sa peer;
};


/* web.c */
void web_conn_want_write(struct web_conn *conn);
void web_conn_idle(struct web_conn *conn);
int  web_listen(struct web *web);

/* web_limit.c */
int  web_limit_init(struct web *web, const struct web_prm *prm);
int  web_limit_admit(struct web *web, int fd, const struct sa *peer);
int  web_limit_drain(int fd);
void web_limit_track(struct web_conn *conn);
void web_limit_untrack(struct web_conn *conn);
bool web_limit_accept_failed(struct web *web, int err);
bool web_ratelog_due(struct web_ratelog *rl, uint32_t *heldp);

/* web_peek.c */
int  web_peek(struct web_conn *conn);
void web_peek_arm(struct web_conn *conn);
void web_peek_start(struct web_conn *conn);

/* web_plain.c */
int  web_http_plain(struct web_conn *conn, bool upgrade);

/* web_http.c */
int  web_http_request(struct web_conn *conn, const char *path);
int  web_http_body(struct web_conn *conn, const void *in, size_t len);
int  web_http_complete(struct web_conn *conn);
int  web_http_writeable(struct web_conn *conn);
int  web_http_req_read(struct web_conn *conn, const char *path);
int  web_http_write_now(struct web_conn *conn, uint16_t status,
			const char *hdrs, const char *body);
int  web_http_not_http(struct web_conn *conn, const uint8_t *in,
		       size_t len);
void web_http_reset(struct web_conn *conn);

/* web_tls.c */
int  web_tls_check(const char *cert, const char *key);
void web_tls_info(struct lws_context_creation_info *info,
		  const struct web_prm *prm);
int  web_tls_ctx_setup(SSL_CTX *ssl_ctx);
bool web_tls_wants_write(struct web_conn *conn);

/* web_ws.c */
int  web_ws_confirm(struct web_conn *conn, const char *upgrade);
int  web_ws_established(struct web_conn *conn);
int  web_ws_receive(struct web_conn *conn, const void *in, size_t len);
int  web_ws_writeable(struct web_conn *conn);
void web_ws_closed(struct web_conn *conn);
void web_ws_reset(struct web_conn *conn);
