/**
 * @file webhook.h  Webhooks: endpoints, filters, the durable outbox, signing,
 *                  retries, delivery and its HTTP client
 *
 * Threads: main thread only.
 */

#ifndef HTTPCTL_WEBHOOK_H
#define HTTPCTL_WEBHOOK_H

/*
 * Webhook signatures (sign.c): Standard Webhooks 1.0 secrets and
 * "v1," HMAC-SHA256 signatures
 */

enum {
	WHSIGN_KEY_BYTES = 32,   /* random bytes in a new secret           */
	WHSIGN_KEY_MIN = 24,     /* key lengths a secret may decode to     */
	WHSIGN_KEY_MAX = 64,
	WHSIGN_SIG_LEN = 48,     /* "v1," + 44 base64 + NUL                */
};

int whsign_secret_encode(char **secretp, const uint8_t *key, size_t len);
int whsign_secret_new(char **secretp);
int whsign_secret_decode(const char *secret, uint8_t *key, size_t *lenp);
int whsign_sign(char *sig, size_t sz, const char *secret, const char *msgid,
		uint64_t ts, const uint8_t *body, size_t len);


/*
 * Webhook retry schedule (retry.c): pure, the caller brings the random
 * value and the time
 */

enum {
	WHRETRY_ATTEMPTS = 8,        /* attempts in all, the first at once */
	WHRETRY_CAP_MS = 86400000,   /* a Retry-After waits at most 24 h   */
};

uint64_t whretry_step_ms(unsigned attempts);
uint64_t whretry_jitter(uint64_t ms, uint32_t rnd);
int  whretry_after_decode(const struct pl *val, uint64_t now_ms,
			  uint64_t *waitp);
bool whretry_next(uint64_t *waitp, unsigned attempts, uint32_t rnd,
		  uint64_t retry_after);


/*
 * Webhook retention (retain.c): how far an endpoint may fall behind
 * before what it owes is given up
 */

/** The bounds on what an endpoint may owe */
struct whretain {
	uint64_t give_up_ms;   /* an owed event older than this goes      */
	uint32_t backlog_max;  /* ... or one this many behind the newest  */
};

int  whretain_cfg_read(struct whretain *r, const struct conf *conf);
bool whretain_beyond(const struct whretain *r, uint64_t seq,
		     uint64_t time_ms, uint64_t last_seq, uint64_t now_ms);
uint64_t whretain_interval_ms(const struct whretain *r);


/*
 * Webhook endpoints (endpoint.c): the webhooks table, where each stands
 */

struct webhooks;
struct whdl;
struct sqlite3;

/** A queued delivery of one event: the head of an endpoint or a
    redelivery */
struct webhook_job {
	uint64_t seq;          /* the event; 0: none                      */
	uint32_t attempts;     /* attempts made so far                    */
	uint64_t next_ms;      /* unix ms the next attempt is due         */
};

/**
 * An endpoint; its row in the webhooks table says the same. The
 * delivery state (enabled, disabled_*, cursor, head) is written only by
 * the webhook_head_*(), webhook_pass(), webhook_give_up() and
 * webhook_disable() verbs of endpoint.c; others read it.
 */
struct webhook {
	struct le le;          /* in the webhooks list                    */
	struct webhooks *whs;
	char *id;              /* "wh_..."                                */
	char *url;
	char *secret;          /* "whsec_...": never logged nor listed    */
	char *description;     /* or NULL                                 */
	json_t *events;        /* the filters, an array of strings        */
	bool enabled;
	uint64_t created_ms;   /* unix ms                                 */
	uint64_t disabled_ms;  /* 0: enabled                              */
	char *disabled_reason;
	uint64_t cursor;       /* events up to this seq are settled       */
	struct webhook_job head;  /* the event it is on (seq 0: none)     */
	struct whdl *dl;       /* the delivery engine's state (deliver.c) */
};

int  webhooks_alloc(struct webhooks **whsp, struct evstore *store);
struct list *webhooks_list(struct webhooks *whs);
struct sqlite3 *webhooks_db(const struct webhooks *whs);
struct evstore *webhooks_store(const struct webhooks *whs);
struct webhook *webhooks_find(const struct webhooks *whs, const char *id);
int  webhooks_create_check(const json_t *args, struct sp_err *err);
int  webhooks_create(struct webhooks *whs, const json_t *args,
		     uint64_t cursor, struct webhook **whp,
		     struct sp_err *err);
void webhook_pass(struct webhook *wh, uint64_t seq);
void webhook_head_set(struct webhook *wh, uint64_t seq, uint64_t due_ms);
int  webhook_head_settle(struct webhook *wh);
int  webhook_head_wait(struct webhook *wh, uint32_t attempts,
		       uint64_t next_ms);
int  webhook_head_due(struct webhook *wh, uint64_t now_ms);
int  webhook_give_up(struct webhook *wh, uint64_t seq);
int  webhook_disable(struct webhook *wh, const char *reason,
		     uint64_t now_ms);
int  webhook_delete(struct webhook *wh);
json_t *webhook_encode(const struct webhook *wh);


/*
 * Webhook filters (filter.c): the event types an endpoint wants
 */

bool webhook_filter_valid(const char *f);
bool webhook_matches(const struct webhook *wh, const char *type);


/*
 * Webhook outbox (outbox.c): what each endpoint owes of the event log,
 * the deliveries and redeliveries tables
 */

enum whd_state {
	WHD_PENDING = 0,
	WHD_DELIVERED,
	WHD_FAILED,
};

enum {
	WHD_ATTEMPTS_KEPT = 10,       /* attempts of a delivery, newest   */
	WHOUTBOX_RECORDS_KEPT = 100,  /* records of an endpoint kept after
					 their events left the log        */
};

/** An event's latest attempt at one endpoint */
struct whd_record {
	uint64_t seq;
	const char *event_id;
	const char *type;
	uint32_t attempt;      /* 1 to WHRETRY_ATTEMPTS                   */
	enum whd_state state;
	uint16_t status;       /* HTTP status; 0: no answer               */
	const char *error;     /* why it failed, or NULL                  */
	uint64_t at_ms;        /* unix ms the attempt began               */
	uint64_t duration_ms;  /* from its start to its outcome           */
	uint64_t next_ms;      /* the next attempt; 0: none               */
};

/** An event read from the log */
struct whoutbox_event {
	uint64_t seq;
	uint64_t time_ms;      /* when it was published, unix ms          */
	char *id;
	char *type;
	char *json;            /* the envelope as stored: the body        */
};

/* The error of the attempt that records an event given up by
   retention (retain.c) */
#define WHOUTBOX_DROPPED "dropped by retention"

/* Is this owed event beyond what the endpoint may still owe? */
typedef bool (whoutbox_beyond_h)(const struct evbus_event *ev, void *arg);

/** What a step of giving up did */
struct whoutbox_drop {
	uint64_t through;      /* the cursor may move here                */
	uint32_t n;            /* owed events given up                    */
	uint64_t first;        /* the seq of the first and last of them   */
	uint64_t last;
};

int  whoutbox_init(struct sqlite3 *db);
int  whoutbox_forget(struct sqlite3 *db, const char *webhook);
int  whoutbox_scan(const struct webhook *wh, size_t max, uint64_t *seqp,
		   uint64_t *passedp);
int  whoutbox_backlog(const struct webhook *wh, size_t max, size_t *np,
		      uint64_t *oldestp);
int  whoutbox_event_load(struct evstore *es, uint64_t seq,
			 struct whoutbox_event **evp);
int  whoutbox_record(struct sqlite3 *db, const char *webhook,
		     const struct whd_record *rec);
int  whoutbox_records(struct sqlite3 *db, const char *webhook, size_t limit,
		      json_t **arrp);
int  whoutbox_record_seq(struct sqlite3 *db, const char *webhook,
			 const char *event_id, uint64_t *seqp);
int  whoutbox_redeliver_add(struct sqlite3 *db, const char *webhook,
			    uint64_t seq, uint64_t now_ms);
int  whoutbox_drop(const struct webhook *wh, size_t max, uint64_t now_ms,
		   whoutbox_beyond_h *beyondh, void *arg,
		   struct whoutbox_drop *d);
int  whoutbox_redeliver_next(struct sqlite3 *db, const char *webhook,
			     struct webhook_job *job);
int  whoutbox_redeliver_oldest(struct sqlite3 *db, const char *webhook,
			       struct webhook_job *job);
int  whoutbox_redeliver_save(struct sqlite3 *db, const char *webhook,
			     const struct webhook_job *job, bool settled);
uint64_t whoutbox_floor(struct webhooks *whs);
int  whoutbox_prune(struct evstore *es);

/*
 * The URLs a webhook is sent to (url.c)
 */

/** Where a webhook URL points; the parts point into the URL */
struct webhook_url {
	bool tls;              /* https                                   */
	struct pl host;        /* without the [] of an IPv6 address       */
	uint16_t port;
	struct pl hostport;    /* as written, for the Host header         */
	struct pl path;        /* path and query, may be empty            */
};

int  webhook_url_decode(struct webhook_url *u, const char *url,
			const char **whyp);


/*
 * Webhook HTTP client (http.c): POSTs on libcurl's multi interface, run
 * by libre's loop; https verified, proxies from the environment,
 * connections kept alive
 */

struct whhttp;
struct whhttp_req;

/** What to send where */
struct whhttp_prm {
	const char *url;       /* as url.c accepts it                     */
	const char *const *hdrv;  /* header lines "Name: value", no CRLF  */
	size_t hdrc;
	const char *body;
	size_t len;
	uint32_t timeout_ms;   /* connect, send and answer, in all        */
};

/** The answer's status and what a delivery reads of its headers */
struct whhttp_answer {
	uint16_t status;
	const char *reason;    /* the status line's phrase, may be ""     */
	struct pl retry_after; /* the header's value; empty: none         */
};

/* The answer (valid during the call), or an error and why */
typedef void (whhttp_h)(int err, const char *why,
			const struct whhttp_answer *ans, void *arg);

int  whhttp_alloc(struct whhttp **httpp, const char *ca);
int  whhttp_post(struct whhttp_req **reqp, struct whhttp *http,
		 const struct whhttp_prm *prm, whhttp_h *h, void *arg);


/*
 * Webhook delivery (deliver.c): the per-endpoint state machine
 */

struct whdeliver;

struct whdeliver_prm {
	struct webhooks *whs;
	struct evbus *bus;
	struct evstore *store;
	const char *ca;        /* CA file for https                       */
	const struct whretain *retain;  /* how far an endpoint may fall
					   behind; NULL: the defaults     */
};

int  whdeliver_alloc(struct whdeliver **wdp,
		     const struct whdeliver_prm *prm);
int  whdeliver_kick(struct whdeliver *wd, struct webhook *wh);
int  whdeliver_retry(struct whdeliver *wd, struct webhook *wh,
		     const char *event_id, struct sp_err *err);
int  whdeliver_test(struct whdeliver *wd, struct webhook *wh,
		    json_t **resultp, struct sp_err *err);
bool whdeliver_in_flight(const struct webhook *wh);

/** Delivery attempts since start */
struct whdeliver_stats {
	uint64_t ok;           /* answered 2xx                            */
	uint64_t failed;       /* did not succeed (retried, or not)       */
	uint64_t abandoned;    /* events given up after the last attempt  */
	uint64_t dropped;      /* events given up by retention            */
};

/** An endpoint's recent attempts */
struct whdeliver_ep {
	uint32_t fails;        /* failed attempts since the last success  */
	const char *error;     /* why the last one failed, or NULL        */
	uint64_t last_ok_ms;   /* unix ms; 0: none since start            */
	uint64_t last_fail_ms;
	uint64_t dropped;      /* events given up by retention            */
};

void whdeliver_stats(const struct whdeliver *wd,
		     struct whdeliver_stats *st);
void whdeliver_ep(const struct webhook *wh, struct whdeliver_ep *ep);

#endif
