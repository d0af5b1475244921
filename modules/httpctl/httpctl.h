/**
 * @file httpctl.h  httpctl module: private interface between its files
 *
 * Threads: all of httpctl runs on the libre main thread (SIP, UA events,
 * HTTP requests, timers).
 */


/*
 * CIDR lists (cidr.c): who may REGISTER
 */

struct cidr_list;

int  cidr_list_decode(struct cidr_list **clp, const char *str);
bool cidr_list_match(const struct cidr_list *cl, const struct sa *addr);


/*
 * REGISTER parsing (regmsg.c): a request, read and checked, no side effect
 */

/** What one REGISTER asks for */
struct reg_req {
	struct pl line;        /* user part of the To URI: the line id    */
	bool star;             /* "Contact: *" (remove all bindings)      */
	struct pl contact;     /* the Contact URI as sent, without <>     */
	uint32_t expires;      /* asked expiry in seconds (0: unregister) */
	struct pl user_agent;  /* User-Agent header, may be empty         */
};

int reg_parse(struct reg_req *rr, const struct sip_msg *msg,
	      uint32_t dflt_expires, const char **reasonp);


/*
 * Lines (line.c): one per HT802 port, keyed by the registered user
 */

enum line_state {
	LINE_IDLE = 0,
	LINE_RINGING,
	LINE_IN_CALL,
};

struct line {
	struct le le;          /* in lines->linel                         */
	struct lines *lines;
	char *id;              /* "100"                                   */
	bool registered;
	char *contact;         /* the Contact URI as the ATA sent it      */
	char *dial_uri;        /* where an INVITE to the phone goes       */
	struct sa src;         /* source address of the last REGISTER     */
	enum sip_transp tp;
	char *user_agent;
	uint32_t expires;      /* granted expiry, seconds                 */
	uint64_t expires_at;   /* tmr_jiffies() ms when it runs out       */
	uint64_t registered_at;     /* unix ms, when it became registered */
	uint64_t last_register_at;  /* unix ms, the last REGISTER         */
	struct tmr tmr;        /* expiry                                  */
};

struct lines;

/** A binding that a REGISTER asks for */
struct line_binding {
	const char *contact;
	const struct sa *src;
	enum sip_transp tp;
	const char *user_agent;
	uint32_t expires;
};

int  lines_alloc(struct lines **linesp, struct evbus *bus);
int  lines_bind(struct lines *lines, const char *id,
		const struct line_binding *b);
void lines_unbind(struct lines *lines, const char *id,
		  const char *contact);
struct line *lines_find(const struct lines *lines, const char *id);
struct list *lines_list(struct lines *lines);
size_t lines_registered_count(const struct lines *lines);
struct line *lines_first_registered(const struct lines *lines);
uint32_t line_expires_left(const struct line *line);
json_t *line_encode(const struct line *line, enum line_state state,
		    const char *call_id);
const char *line_state_name(enum line_state st);


/*
 * Registrar (reg.c): answers REGISTER on baresip's SIP stack
 */

struct registrar;

struct reg_cfg {
	const char *allow;     /* CIDR list, NULL: private + loopback     */
	uint32_t expires_min;  /* shorter asks get 423                    */
	uint32_t expires_max;  /* longer asks are shortened               */
};

int reg_alloc(struct registrar **regp, struct sip *sip, struct lines *lines,
	      const struct reg_cfg *cfg);


/*
 * Call quality (quality.c): RTP counts, loss and jitter from RTCP, and a
 * MOS estimate (a simplified ITU-T G.107 E-model for G.711)
 */

/** A call's audio quality; the RTCP figures are known once rtcp is set */
struct quality {
	uint32_t rx_packets;   /* RTP packets from the phone              */
	uint32_t tx_packets;   /* RTP packets to the phone                */
	uint32_t rx_errors;    /* packets the stream refused              */
	bool rtcp;             /* a sender report came from the phone     */
	uint32_t lost;         /* the phone's packets lost                */
	double loss_pct;       /* of those it sent                        */
	double jitter_ms;      /* interarrival jitter of its packets      */
	uint32_t tx_lost;      /* our packets it reports lost             */
	double tx_loss_pct;
	double tx_jitter_ms;   /* the jitter it reports of ours           */
	double rtt_ms;         /* round trip; 0: unknown                  */
	double mos;            /* 1.0 to 4.5: the worse direction's       */
};

double quality_r_factor(double loss_pct, double jitter_ms, double rtt_ms);
double quality_mos_of_r(double r);
double quality_mos(double loss_pct, double jitter_ms, double rtt_ms);
void quality_set(struct quality *q, const struct rtcp_stats *rs,
		 uint32_t rx_packets, uint32_t tx_packets, uint32_t rx_errors);
int  quality_read(struct quality *q, const struct call *call);
json_t *quality_encode(const struct quality *q);


/*
 * Calls (calls.c): baresip calls seen as API call objects
 */

enum pcall_dir {
	PCALL_FROM_PHONE = 0,  /* the phone went off-hook and dialed   */
	PCALL_TO_PHONE,        /* the API rang the phone                */
};

enum pcall_state {
	PCALL_RINGING = 0,
	PCALL_ACTIVE,
	PCALL_ENDED,
};

/** A call as the API shows it; outlives the baresip call it wraps */
struct pcall {
	struct le le;          /* in calls->activel or calls->endedl    */
	struct calls *calls;
	char *id;              /* "call_..."                            */
	char *sip_callid;      /* SIP Call-ID of the dialog             */
	struct call *call;     /* baresip's call; NULL once ended       */
	char *line;            /* line id                               */
	enum pcall_dir dir;
	enum pcall_state state;
	char *dialed;          /* digits the phone dialed (from_phone)  */
	char *from;            /* caller SIP URI                        */
	uint64_t started_at;   /* unix ms                               */
	uint64_t answered_at;
	uint64_t ended_at;
	const char *answered_by;  /* "phone" or "api"                   */
	const char *end_reason;
	char *end_detail;      /* baresip's words for the end           */
	uint16_t sip_code;     /* final SIP status of a failed INVITE   */
	bool ringing_seen;
	bool hangup_by_api;
	bool ring_timeout;     /* nobody picked up in time              */
	struct tmr tmr_ring;   /* ring timeout of a call to the phone   */
	struct dtmf_tx *dtmf;  /* digits being sent to the phone        */
	struct quality quality;  /* at the end (quality_known)          */
	bool quality_known;
	uint32_t lost_seen;    /* the most lost packets counted yet,    */
	uint32_t tx_lost_seen; /* so that the totals never go back      */
};

struct calls;

enum {
	RING_TIMEOUT_S = 60,   /* a call to the phone rings this long     */
	CALLS_DIRS = 2,        /* enum pcall_dir                          */
	CALLS_REASONS = 8,     /* end reasons, see calls_reason_name()    */
};

/** What the call table counted since start */
struct calls_stats {
	uint64_t started[CALLS_DIRS];
	uint64_t answered[CALLS_DIRS];
	uint64_t ended[CALLS_DIRS][CALLS_REASONS];
	uint32_t ringing[CALLS_DIRS];  /* now                             */
	uint32_t active[CALLS_DIRS];   /* now: answered, not yet ended    */
	uint64_t talk_ms;      /* answer to end, of ended calls           */
	uint64_t rx_packets;   /* RTP of ended and live calls             */
	uint64_t tx_packets;
	uint64_t lost;         /* the phone's packets lost                */
	uint64_t tx_lost;      /* ours, as the phone reports              */
	uint64_t mos_count;    /* ended calls with a MOS ...              */
	double mos_sum;        /* ... and the sum of their MOS            */
};

int  calls_alloc(struct calls **callsp, struct ua *ua, struct lines *lines,
		 struct evbus *bus, struct sip *sip);
int  calls_dial(struct calls *calls, const struct line *line,
		uint32_t ring_s, struct pcall **pcp);
int  calls_answer(struct pcall *pc);
int  calls_hangup(struct pcall *pc);
int  calls_send_dtmf(struct pcall *pc, const char *digits);
struct pcall *calls_find(const struct calls *calls, const char *id);
struct pcall *calls_find_sip(const struct calls *calls, const char *callid);
struct pcall *calls_find_line(const struct calls *calls, const char *line);
struct list *calls_active(struct calls *calls);
struct list *calls_ended(struct calls *calls);
void calls_publish(struct pcall *pc, const char *type, json_t *data);
json_t *pcall_encode(const struct pcall *pc);
const char *pcall_state_name(enum pcall_state st);
enum line_state calls_line_state(const struct calls *calls,
				 const char *line, const char **callidp);
json_t *calls_line_encode(const struct calls *calls, const struct line *l);
void calls_stats(struct calls *calls, struct calls_stats *st);
const char *calls_reason_name(size_t i);
const char *pcall_dir_name(enum pcall_dir dir);
int  pcall_quality(const struct pcall *pc, struct quality *q);


/*
 * DTMF out (dtmf.c): digits sent to the phone
 */

struct dtmf_tx;

int  dtmf_tx_alloc(struct dtmf_tx **dtp, struct call *call);
int  dtmf_tx_queue(struct dtmf_tx *dt, const char *digits);
bool dtmf_digits_valid(const char *digits);


/*
 * SIP trace (siptrace.c): INVITE sources, INFO digits and hook flash
 */

struct siptrace;

typedef void (siptrace_flash_h)(const char *callid, void *arg);

int  siptrace_alloc(struct siptrace **trp, struct sip *sip,
		    siptrace_flash_h *flashh, void *arg);
const char *siptrace_dtmf_method(struct siptrace *tr, const char *callid,
				 char digit);
int  siptrace_invite_src(const struct siptrace *tr, const char *callid,
			 struct sa *src);
void siptrace_forget(struct siptrace *tr, const char *callid);


/*
 * The module (httpctl.c) and its REST resources (api_*.c)
 */

/** Health and metrics settings (health.c) */
struct health_cfg {
	bool metrics_loopback; /* /metrics: no token needed from loopback */
	uint32_t loss_pct;     /* a call losing more is "degraded"        */
};

struct httpctl {
	struct sp_core *core;
	struct lines *lines;
	struct registrar *reg;
	struct calls *calls;
	struct ua *ua;         /* owned by baresip's UA list           */
	struct webhooks *webhooks;
	struct whdeliver *whdeliver;
	struct health_cfg health;
};

int api_calls_register(struct httpctl *ctl);
json_t *api_calls_list(struct calls *calls, bool all);
json_t *api_lines_list(struct httpctl *ctl);
int api_lines_register(struct httpctl *ctl);
int api_events_register(struct httpctl *ctl);
int api_status_register(struct httpctl *ctl);


/*
 * Call operations (ops.c), shared by REST and WebSocket commands
 */

enum ops_pick {
	OPS_RINGING_IN = 0,    /* a ringing call from the phone          */
	OPS_ACTIVE,            /* an answered call                       */
	OPS_LIVE,              /* a ringing or answered call             */
};

int  ops_dial(struct httpctl *ctl, const json_t *args, struct pcall **pcp,
	      struct sp_err *err);
struct pcall *ops_call(struct httpctl *ctl, const json_t *jid,
		       enum ops_pick pick, struct sp_err *err);
int  ops_answer(struct pcall *pc, struct sp_err *err);
int  ops_hangup(struct pcall *pc, struct sp_err *err);
int  ops_dtmf(struct pcall *pc, const json_t *jdigits, struct sp_err *err);


/*
 * WebSocket commands (wscmd.c): answer, hangup, dial, dtmf
 */

int  wscmd_register(struct httpctl *ctl);


/*
 * Operator console (www.c): the web page at "/", files compiled in from
 * www/ by modules/embed.cmake (www_assetv is generated at build time)
 */

struct www_asset {
	const char *path;      /* "/app.js"                              */
	const char *ctype;     /* Content-Type                           */
	const uint8_t *data;
	size_t len;
};

extern const struct www_asset www_assetv[];
extern const size_t www_assetc;

int  www_register(struct httpctl *ctl);


/*
 * Log level (loglevel.c): config, console and REST
 */

const char *loglevel_name(void);
int  loglevel_set(const char *name);
int  loglevel_read(const struct conf *conf);
int  api_log_register(struct httpctl *ctl);


/*
 * Console (console.c): baresip console commands for debugging
 */

int  console_register(struct httpctl *ctl);
void console_unregister(void);


/*
 * Webhook signatures (whsign.c): Standard Webhooks 1.0 secrets and
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
 * Webhook retry schedule (whretry.c): pure, the caller brings the random
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
 * Webhook endpoints (webhook.c): the webhooks table, filters, URLs; and
 * the SQL helpers the webhook files share
 */

struct webhooks;
struct whdl;
struct sqlite3;
struct sqlite3_stmt;

/** A queued delivery of one event: the head of an endpoint or a
    redelivery */
struct webhook_job {
	uint64_t seq;          /* the event; 0: none                      */
	uint32_t attempts;     /* attempts made so far                    */
	uint64_t next_ms;      /* unix ms the next attempt is due         */
};

/** An endpoint; its row in the webhooks table says the same */
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
	struct whdl *dl;       /* the delivery engine's state (whdeliver) */
};

/** Where a webhook URL points; the parts point into the URL */
struct webhook_url {
	bool tls;              /* https                                   */
	struct pl host;        /* without the [] of an IPv6 address       */
	uint16_t port;
	struct pl hostport;    /* as written, for the Host header         */
	struct pl path;        /* path and query, may be empty            */
};

int  webhooks_alloc(struct webhooks **whsp, struct evstore *store);
struct list *webhooks_list(struct webhooks *whs);
struct sqlite3 *webhooks_db(const struct webhooks *whs);
struct webhook *webhooks_find(const struct webhooks *whs, const char *id);
int  webhooks_create(struct webhooks *whs, const json_t *args,
		     uint64_t cursor, struct webhook **whp,
		     struct sp_err *err);
int  webhook_save(const struct webhook *wh);
int  webhook_delete(struct webhook *wh);
bool webhook_matches(const struct webhook *wh, const char *type);
bool webhook_filter_valid(const char *f);
int  webhook_url_decode(struct webhook_url *u, const char *url,
			const char **whyp);
json_t *webhook_encode(const struct webhook *wh);

int  whdb_err(struct sqlite3 *db, const char *what, int rc);
int  whdb_exec(struct sqlite3 *db, const char *sql);
int  whdb_prepare(struct sqlite3 *db, struct sqlite3_stmt **stp,
		  const char *sql);
int  whdb_done(struct sqlite3 *db, struct sqlite3_stmt *st,
	       const char *what);
int  whdb_begin(struct sqlite3 *db);
int  whdb_end(struct sqlite3 *db, int err);


/*
 * Webhook outbox (whoutbox.c): the event log read for the endpoints, the
 * deliveries and redeliveries tables
 */

enum whd_state {
	WHD_PENDING = 0,
	WHD_DELIVERED,
	WHD_FAILED,
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
	uint64_t next_ms;      /* the next attempt; 0: none               */
};

/** An event read from the log */
struct whoutbox_event {
	uint64_t seq;
	char *id;
	char *type;
	char *json;            /* the envelope as stored: the body        */
};

int  whoutbox_init(struct sqlite3 *db);
int  whoutbox_forget(struct sqlite3 *db, const char *webhook);
int  whoutbox_scan(struct webhook *wh, size_t max, uint64_t *seqp);
int  whoutbox_event_load(struct sqlite3 *db, uint64_t seq,
			 struct whoutbox_event **evp);
int  whoutbox_record(struct sqlite3 *db, const char *webhook,
		     const struct whd_record *rec);
int  whoutbox_records(struct sqlite3 *db, const char *webhook, size_t limit,
		      json_t **arrp);
int  whoutbox_record_seq(struct sqlite3 *db, const char *webhook,
			 const char *event_id, uint64_t *seqp);
int  whoutbox_redeliver_add(struct sqlite3 *db, const char *webhook,
			    uint64_t seq, uint64_t now_ms);
int  whoutbox_redeliver_next(struct sqlite3 *db, const char *webhook,
			     struct webhook_job *job);
int  whoutbox_redeliver_save(struct sqlite3 *db, const char *webhook,
			     const struct webhook_job *job, bool settled);
uint64_t whoutbox_floor(struct webhooks *whs);
int  whoutbox_prune(struct sqlite3 *db);
int  whoutbox_pending(const struct webhook *wh, size_t max, size_t *np);
int  whoutbox_backlog(const struct webhook *wh, size_t max, size_t *np,
		      uint64_t *oldestp);


/*
 * One webhook POST (whpost.c): HTTP or verified HTTPS on libre's loop
 */

struct whpost;

/** What to send where */
struct whpost_prm {
	const char *url;
	struct dnsc *dnsc;     /* resolves host names (NULL: none)        */
	struct tls *tls;       /* client context with the CAs (https)     */
	const char *hdrs;      /* header lines, each ending in CRLF       */
	const char *body;
	size_t len;
	uint32_t timeout_ms;   /* connect, send and answer, in all        */
};

/* The answer (msg, valid during the call), or an error and why */
typedef void (whpost_h)(int err, const char *why, const struct http_msg *msg,
			void *arg);

int  whpost_send(struct whpost **wpp, const struct whpost_prm *prm,
		 whpost_h *h, void *arg);


/*
 * Webhook delivery (whdeliver.c): the per-endpoint state machine
 */

struct whdeliver;

/* The DNS client to use now (baresip's may change with the network) */
typedef struct dnsc *(whdeliver_dnsc_h)(void);

struct whdeliver_prm {
	struct webhooks *whs;
	struct evbus *bus;
	struct evstore *store;
	whdeliver_dnsc_h *dnsch;
	const char *ca;        /* CA file for https                       */
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
};

/** An endpoint's recent attempts */
struct whdeliver_ep {
	uint32_t fails;        /* failed attempts since the last success  */
	const char *error;     /* why the last one failed, or NULL        */
	uint64_t last_ok_ms;   /* unix ms; 0: none since start            */
	uint64_t last_fail_ms;
};

void whdeliver_stats(const struct whdeliver *wd,
		     struct whdeliver_stats *st);
void whdeliver_ep(const struct webhook *wh, struct whdeliver_ep *ep);


/*
 * REST: /api/v1/webhooks (api_webhooks.c)
 */

int  api_webhooks_register(struct httpctl *ctl);


/*
 * Health (health.c): GET /api/v1/health's object and why it is degraded;
 * metrics (metrics.c): the Prometheus text; both served by api_health.c
 */

/** The webhook endpoints at a glance */
struct health_webhooks {
	uint32_t enabled;
	uint32_t disabled;
	uint32_t failing;      /* enabled, and the last attempt failed    */
	uint64_t pending;      /* events waiting, all enabled endpoints   */
	bool pending_more;     /* a backlog too long to count: more       */
	uint64_t oldest_ms;    /* unix ms of the oldest waiting; 0: none  */
};

int  health_cfg_read(struct health_cfg *cfg, const struct conf *conf);
void health_webhooks(struct httpctl *ctl, struct health_webhooks *hw);
bool health_webhook_failing(const struct webhook *wh);
json_t *health_reasons(struct httpctl *ctl, const struct health_webhooks *hw);
json_t *health_encode(struct httpctl *ctl);
int  metrics_print(struct re_printf *pf, struct httpctl *ctl);
int  api_health_register(struct httpctl *ctl);
