/**
 * @file sipphone.h  The shared core both sipphone modules link
 *
 * libsipphone.so is loaded once per process (DT_NEEDED of httpctl.so and
 * wsaudio.so), so the objects it holds are shared by both modules: the
 * web server, the API router, auth and the event bus.
 *
 * Threads: every function here must be called on the libre main thread.
 */

#ifndef SIPPHONE_H
#define SIPPHONE_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sp_json.h"
#include <rem.h>
#include "bsapi.h"


/*
 * Time
 */

uint64_t sptime_now_ms(void);
int sptime_fmt(char *buf, size_t sz, uint64_t unix_ms);

/* Room for "2026-11-26T07:04:21.123Z" and its NUL */
#define SPTIME_STRLEN 32


/*
 * JSON helpers (jansson)
 */

json_t *jx_str(const char *s);
json_t *jx_time(uint64_t unix_ms);
int jx_dumps(char **strp, const json_t *json);


/*
 * Errors (err.c): what failed, as the API reports it
 */

/** An error for a client: HTTP status, code and message */
struct sp_err {
	uint16_t status;       /* HTTP status                          */
	const char *code;      /* snake_case code                      */
	const char *hdrs;      /* extra header lines, or NULL          */
	char msg[160];
};

int sp_err_set(struct sp_err *err, uint16_t status, const char *code,
	       const char *fmt, ...);


/*
 * Random identifiers (randid.c)
 */

int randid_alloc(char **idp, const char *prefix, size_t bytes);


/*
 * Query strings (query.c)
 */

int query_get(const char *query, const char *name, struct pl *val);
int query_u64(const char *query, const char *name, uint64_t *valp);


/*
 * Web server (web.c): HTTP/1.1 on libwebsockets inside the re main loop
 */

struct web;
struct web_conn;

/** A complete HTTP request; valid until the reply is written */
struct web_req {
	struct web_conn *conn;
	const char *met;    /* "GET", "POST", ...                    */
	char *path;         /* decoded path, no query                */
	char *query;        /* decoded "a=1&b=2", "" if none         */
	char *authz;        /* Authorization header, or NULL         */
	char *origin;       /* Origin header, or NULL                */
	char *host;         /* Host header, or NULL                  */
	char *ctype;        /* Content-Type header, or NULL          */
	struct mbuf *body;  /* request body (pos 0), maybe empty     */
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
	const char *tls_cert;  /* PEM certificate (chain); NULL: no TLS */
	const char *tls_key;   /* PEM private key of tls_cert           */
	enum web_tls_plain tls_plain;
};

typedef void (web_req_h)(const struct web_req *req, void *arg);

int web_alloc(struct web **webp, const struct web_prm *prm,
	      web_req_h *reqh, void *arg);
const struct sa *web_laddr(const struct web *web);
bool web_is_tls(const struct web *web);
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
		 const void *data, size_t len);
int  web_ws_close(struct web_conn *conn, uint16_t code, const char *reason);
void web_ws_stats(const struct web_conn *conn, struct web_ws_stats *st);


/*
 * Auth (auth.c): bearer tokens and browser origins
 */

struct auth;

int  auth_alloc(struct auth **authp);
int  auth_add_token(struct auth *auth, const char *token);
int  auth_add_origin(struct auth *auth, const char *origin);
size_t auth_token_count(const struct auth *auth);
bool auth_bearer_ok(const struct auth *auth, const char *authz);
bool auth_token_ok(const struct auth *auth, const char *token);
bool auth_origin_ok(const struct auth *auth, const char *origin,
		    const char *host);
bool auth_origin_listed(const struct auth *auth, const char *origin);
int  auth_token_load(struct auth *auth, const char *state_dir,
		     char **newp);


/*
 * API (api.c): routing, auth and CORS in front of the handlers
 */

struct api;

enum {
	API_PARAM_MAX = 4,
	API_BODY_MAX = 65536,
	API_LIMIT_DEFAULT = 100,  /* page size of a collection   */
	API_LIMIT_MAX = 1000,
};

enum api_flags {
	API_PUBLIC = 1 << 0,   /* no token needed                    */
	API_JSON   = 1 << 1,   /* the body must be a JSON object     */
};

/** One API request as a route handler sees it */
struct api_req {
	const struct web_req *wr;
	struct api *api;
	const char *pnamev[API_PARAM_MAX];  /* "{call}" -> "call"     */
	char *paramv[API_PARAM_MAX];        /* its value in the path  */
	size_t paramc;
	json_t *body;          /* the JSON object (API_JSON), or NULL */
	bool replied;
};

typedef void (api_h)(struct api_req *req, void *arg);

int  api_alloc(struct api **apip, struct auth *auth);
int  api_route(struct api *api, const char *met, const char *pattern,
	       unsigned flags, api_h *h, void *arg);
void api_unroute_arg(struct api *api, const void *arg);
void api_handle(const struct web_req *wr, void *arg);

const char *api_param(const struct api_req *req, const char *name);
int  api_query(const struct api_req *req, const char *name, struct pl *val);
int  api_query_u64(const struct api_req *req, const char *name,
		   uint64_t *valp);
int  api_limit(struct api_req *req, size_t *limitp);
int  api_reply(struct api_req *req, uint16_t status, json_t *body);
int  api_reply_text(struct api_req *req, uint16_t status, const char *ctype,
		    const char *fmt, ...);
int  api_error(struct api_req *req, uint16_t status, const char *code,
	       const char *fmt, ...);
int  api_fail(struct api_req *req, const struct sp_err *err);


/*
 * Event store (evstore.c): the durable event log, SQLite in WAL mode
 */

struct evstore;
struct evbus_event;
struct sqlite3;

/* The oldest seq a reader still needs (UINT64_MAX: none) */
typedef uint64_t (evstore_floor_h)(void *arg);

int  evstore_open(struct evstore **esp, const char *path, uint32_t keep,
		  uint32_t max_age_s);
void evstore_set_floor_handler(struct evstore *es, evstore_floor_h *h,
			       void *arg);
uint64_t evstore_last_seq(const struct evstore *es);
int  evstore_append(struct evstore *es, const struct evbus_event *ev);
int  evstore_list(struct evstore *es, uint64_t after, size_t limit,
		  struct mbuf *mb, uint64_t *lastp);
struct sqlite3 *evstore_db(const struct evstore *es);


/*
 * Event bus (evbus.c): publish once to the store and every subscriber
 */

struct evbus;
struct evbus_sub;

/** A published event; the envelope is its JSON text */
struct evbus_event {
	uint64_t seq;
	const char *id;        /* "evt_..."                          */
	const char *type;      /* "call.incoming", ...               */
	uint64_t time_ms;      /* unix ms                            */
	const char *json;      /* the whole envelope, compact JSON   */
};

typedef void (evbus_h)(const struct evbus_event *ev, void *arg);

int  evbus_alloc(struct evbus **busp, struct evstore *store);
int  evbus_subscribe(struct evbus_sub **subp, struct evbus *bus,
		     evbus_h *h, void *arg);
int  evbus_publish(struct evbus *bus, const char *type, json_t *data);
uint64_t evbus_last_seq(const struct evbus *bus);
uint64_t evbus_published(const struct evbus *bus);
uint64_t evbus_store_errors(const struct evbus *bus);
int  evbus_list(const struct evbus *bus, uint64_t after, size_t limit,
		struct mbuf *mb, uint64_t *lastp);


/*
 * WebSocket sessions (wshub.c): /api/v1/ws, shared by both modules
 */

enum ws_audio {
	WS_AUDIO_NONE = 0,
	WS_AUDIO_PCMU,         /* 160 bytes per 20 ms frame            */
	WS_AUDIO_L16,          /* 320 bytes, little-endian             */
};

struct wshub;
struct ws_session;

/* A command: 0 and *resultp (NULL for {}), or an errorcode and err */
typedef int  (wshub_cmd_h)(struct ws_session *s, const json_t *args,
			   json_t **resultp, struct sp_err *err, void *arg);
typedef const char *(wshub_line_h)(void *arg);
typedef void (wshub_session_h)(struct ws_session *s, bool open, void *arg);
typedef void (wshub_audio_h)(struct ws_session *s, const uint8_t *data,
			     size_t len, void *arg);

int  wshub_alloc(struct wshub **hubp, struct web *web, struct auth *auth,
		 struct evbus *bus, enum ws_audio dflt);
int  wshub_command(struct wshub *hub, const char *name, wshub_cmd_h *h,
		   void *arg);
void wshub_uncommand_arg(struct wshub *hub, const void *arg);
void wshub_set_line_handler(struct wshub *hub, wshub_line_h *h, void *arg);
void wshub_set_audio(struct wshub *hub, wshub_session_h *sessh,
		     wshub_audio_h *audioh, void *arg);
struct list *wshub_sessions(struct wshub *hub);

const char *ws_session_id(const struct ws_session *s);
const char *ws_session_line(const struct ws_session *s);
enum ws_audio ws_session_audio(const struct ws_session *s);
void ws_session_set_audio_arg(struct ws_session *s, void *arg);
void *ws_session_audio_arg(const struct ws_session *s);
int  ws_session_send_audio(struct ws_session *s, const void *data,
			   size_t len);
int  ws_session_send_json(struct ws_session *s, json_t *msg);
int  ws_session_error(struct ws_session *s, const struct sp_err *err);
const char *ws_audio_name(enum ws_audio fmt);


/*
 * WebSocket counters (wshub.c): what the hub counts itself, and what
 * wsaudio counts and hands over through two handlers
 */

enum {
	WSHUB_CLOSE_CODES = 12,  /* distinct close codes counted apart */
};

/** A session's queue out, and the audio it was sent */
struct ws_session_stats {
	size_t queued_bytes;   /* waiting to be sent to the client     */
	uint64_t sent;         /* messages sent                        */
	uint64_t frames;       /* audio frames queued to it            */
	uint64_t dropped;      /* audio frames dropped: it lagged      */
};

/** A session's audio to the phone (wsaudio's queue) */
struct ws_talk_stats {
	uint32_t queued_ms;    /* waiting to be played                 */
	uint64_t dropped_ms;   /* dropped: the queue was full          */
	uint64_t underruns;    /* frames padded with silence           */
};

/** A call's audio to the clients (wsaudio's player) */
struct ws_call_stats {
	uint64_t frames;       /* frames queued to clients             */
	uint64_t dropped;      /* of those, dropped: a client lagged   */
	uint32_t clients;      /* clients hearing the call now         */
	uint32_t queued_ms;    /* the longest client queue to the phone */
};

/** Every session since start, closed ones included */
struct wshub_stats {
	uint32_t clients;      /* open now                             */
	size_t queued_bytes;   /* waiting in the open sessions' queues */
	uint64_t opened;
	uint64_t sent;         /* messages                             */
	uint64_t frames;       /* audio frames queued                  */
	uint64_t dropped;      /* audio frames dropped                 */
	uint64_t talk_dropped_ms;
	uint64_t talk_underruns;
	struct {
		uint16_t code;     /* 0: any code the table had no room for */
		uint64_t count;
	} closev[WSHUB_CLOSE_CODES];
	size_t closec;
};

typedef int (wshub_talk_stats_h)(const struct ws_session *s,
				 struct ws_talk_stats *st, void *arg);
typedef int (wshub_call_stats_h)(const char *callid,
				 struct ws_call_stats *st, void *arg);

void wshub_set_stats(struct wshub *hub, wshub_talk_stats_h *talkh,
		     wshub_call_stats_h *callh, void *arg);
void wshub_stats(const struct wshub *hub, struct wshub_stats *st);
int  wshub_call_stats(const struct wshub *hub, const char *callid,
		      struct ws_call_stats *st);
void ws_session_stats(const struct ws_session *s,
		      struct ws_session_stats *st);
int  ws_session_talk_stats(const struct ws_session *s,
			   struct ws_talk_stats *st);
const char *ws_close_name(uint16_t code);


/*
 * Core (core.c): the one instance both modules share
 */

struct sp_core {
	struct auth *auth;
	struct api *api;
	struct web *web;
	struct wshub *hub;
	struct evbus *bus;
	struct evstore *store;
	char *state_dir;
	uint64_t start_ms;     /* unix ms at start                   */
};

int  sp_core_open(struct sp_core **corep);
bool sp_conf_path(char *path, size_t sz, const struct conf *conf,
		  const char *key);

#endif
