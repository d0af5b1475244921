/**
 * @file sip.h  The SIP side: registrar, lines, calls, DTMF, SIP trace, quality
 *
 * What the phone does, seen from baresip's SIP stack and UA events.
 * Nothing here knows HTTP: the API reads and drives it (api/).
 *
 * Threads: main thread only.
 */

#ifndef HTTPCTL_SIP_H
#define HTTPCTL_SIP_H

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
	struct le he;          /* in lines->ht                            */
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
	uint64_t unregistered_at;   /* unix ms, when the binding ended    */
	struct tmr tmr;        /* expiry; once unregistered, forgetting   */
	struct sa refused_src; /* the last takeover refused, and when     */
	uint64_t refused_at;   /* (tmr_jiffies() ms): said once a minute  */
};

struct lines;

/** A binding that a REGISTER asks for */
struct line_binding {
	const char *contact;
	const struct sa *src;
	enum sip_transp tp;
	const char *user_agent;
	uint32_t expires;
	bool authenticated;    /* credentials checked: may move the line  */
};

enum {
	LINES_MAX_DFLT = 64,       /* httpctl_lines_max                  */
	LINES_KEEP_DFLT = 86400,   /* httpctl_lines_keep, s              */
};

/** The line table's bounds (linecfg.c reads them) */
struct lines_cfg {
	uint32_t max;          /* lines in all, registered or not         */
	uint32_t keep_s;       /* an unregistered line is forgotten after */
};

int  lines_cfg_read(struct lines_cfg *cfg, const struct conf *conf);
int  lines_alloc(struct lines **linesp, struct evbus *bus,
		 struct evstore *store, const struct lines_cfg *cfg);
int  lines_bind(struct lines *lines, const char *id,
		const struct line_binding *b);
int  lines_unbind(struct lines *lines, const char *id, const char *contact,
		  const struct sa *src, bool authenticated);
uint64_t lines_refused_count(const struct lines *lines);
uint64_t lines_full_count(const struct lines *lines);
struct line *lines_find(const struct lines *lines, const char *id);
struct list *lines_list(struct lines *lines);
size_t lines_registered_count(const struct lines *lines);
struct line *lines_first_registered(const struct lines *lines);
uint32_t line_expires_left(const struct line *line);
json_t *line_encode(const struct line *line, enum line_state state,
		    const char *call_id);
const char *line_state_name(enum line_state st);


/*
 * Line store (linestore.c): the lines kept across restarts, a table in
 * the event store's database
 */

struct sqlite3;

/** A stored line, as read back (strings live during the handler) */
struct linestore_row {
	const char *id;
	bool registered;
	const char *contact;
	struct sa src;
	enum sip_transp tp;
	const char *user_agent;
	uint32_t expires;          /* granted, s                         */
	uint64_t expires_at;       /* unix ms, the binding's end         */
	uint64_t registered_at;    /* unix ms                            */
	uint64_t last_register_at;
	uint64_t unregistered_at;
};

typedef int (linestore_row_h)(const struct linestore_row *row, void *arg);

int linestore_open(struct sqlite3 *db);
int linestore_save(struct sqlite3 *db, const struct line *line);
int linestore_delete(struct sqlite3 *db, const char *id);
int linestore_load(struct sqlite3 *db, linestore_row_h *rowh, void *arg);


/*
 * Registrar (registrar.c): answers REGISTER on baresip's SIP stack
 */

struct registrar;

struct reg_cfg {
	const char *allow;     /* CIDR list, NULL: private + loopback     */
	uint32_t expires_min;  /* shorter asks get 423                    */
	uint32_t expires_max;  /* longer asks are shortened               */
	struct sipauth *auth;  /* digest credentials, NULL: none          */
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
	bool restart_due;      /* the last run died with it: call.ended */
};

struct calls;

enum {
	RING_TIMEOUT_S = 60,   /* a call to the phone rings this long     */
	CALLS_DIRS = 2,        /* enum pcall_dir                          */
	CALLS_REASONS = 9,     /* end reasons, see calls_reason_name()    */
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

/* Who the phone is told calls it: the From's display name and user */
enum {
	CALLER_NAME_MAX = 64,    /* bytes of UTF-8 */
	CALLER_NUMBER_MAX = 32,
};

struct caller {
	char name[CALLER_NAME_MAX + 1];      /* "": the account's        */
	char number[CALLER_NUMBER_MAX + 1];  /* "": the account's user   */
};

int  caller_set(struct caller *c, const char *name, const char *number);
int  caller_conf(struct caller *c, const char *text);
int  caller_from_uri(char *buf, size_t sz, const char *aor,
		     const char *number);

int  calls_alloc(struct calls **callsp, struct ua *ua, struct lines *lines,
		 struct evbus *bus, struct evstore *store, struct sip *sip);
int  calls_dial(struct calls *calls, const struct line *line,
		const struct caller *caller, uint32_t ring_s,
		struct pcall **pcp);
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
size_t calls_trace_dialogs(const struct calls *calls);
const char *calls_reason_name(size_t i);
const char *pcall_dir_name(enum pcall_dir dir);
int  pcall_quality(const struct pcall *pc, struct quality *q);


/*
 * Live calls store (callstore.c): a row per live call, so that a call
 * the process dies with can be ended at the next start
 */

/** A live call's row, as read back (strings live during the handler) */
struct callstore_row {
	const char *id;
	const char *line;
	enum pcall_dir dir;
	uint64_t started_at;   /* unix ms                               */
	uint64_t answered_at;  /* 0: not answered                       */
	const char *dialed;    /* may be NULL                           */
	const char *from;
	uint64_t alive_at;     /* last seen alive                       */
};

typedef int (callstore_row_h)(const struct callstore_row *row, void *arg);

int callstore_open(struct sqlite3 *db);
int callstore_save(struct sqlite3 *db, const struct pcall *pc, uint64_t now);
int callstore_alive(struct sqlite3 *db, uint64_t now);
int callstore_remove(struct sqlite3 *db, const char *id);
int callstore_load(struct sqlite3 *db, callstore_row_h *rowh, void *arg);


/*
 * DTMF out (dtmf.c): digits sent to the phone
 */

struct dtmf_tx;

int  dtmf_tx_alloc(struct dtmf_tx **dtp, struct call *call);
int  dtmf_tx_queue(struct dtmf_tx *dt, const char *digits);
bool dtmf_digits_valid(const char *digits);


/*
 * INFO bodies (info.c): a digit or a hook flash from the phone; pure
 */

enum info_kind {
	INFO_NONE = 0,         /* no body we know                        */
	INFO_DIGIT,
	INFO_FLASH,
};

/** What one INFO carries */
struct info_signal {
	enum info_kind kind;
	char digit;            /* INFO_DIGIT: 0-9 * # A-D, upper case    */
	bool sig16;            /* a flash sent as Signal=16: baresip
				  reports it as the digit '1' too        */
};

enum info_kind info_decode(struct info_signal *info,
			   const struct sip_msg *msg);


/*
 * SIP trace (siptrace.c): INVITE sources, INFO digits and hook flash
 */

struct siptrace;

typedef bool (siptrace_live_h)(const struct pl *callid, void *arg);
typedef void (siptrace_flash_h)(const char *callid, void *arg);

int  siptrace_alloc(struct siptrace **trp, struct sip *sip,
		    siptrace_live_h *liveh, siptrace_flash_h *flashh,
		    void *arg);
size_t siptrace_dialogs(const struct siptrace *tr);
const char *siptrace_dtmf_method(struct siptrace *tr, const char *callid,
				 char digit);
int  siptrace_invite_src(const struct siptrace *tr, const char *callid,
			 struct sa *src);
void siptrace_forget(struct siptrace *tr, const char *callid);


/*
 * Digest authentication (digest.c): RFC 2617/7616 arithmetic, the
 * credentials' syntax and our stateless nonces; pure
 */

enum digest_alg {
	DIGEST_MD5 = 0,
	DIGEST_SHA256,
};

enum {
	DIGEST_ALGS = 2,       /* enum digest_alg                         */
	DIGEST_HEX_MAX = 64,   /* a SHA-256 digest in hex                 */
	DIGEST_NONCE_LEN = 64, /* characters of one of our nonces         */
	DIGEST_NONCE_RAND = 8, /* random bytes in it                      */
};

/** Credentials of an Authorization or Proxy-Authorization header */
struct digest_cred {
	struct pl username;
	struct pl realm;
	struct pl nonce;
	struct pl uri;
	struct pl response;
	struct pl algorithm;   /* optional, like all below; p set: sent   */
	struct pl cnonce;
	struct pl opaque;
	struct pl qop;
	struct pl nc;
	enum digest_alg alg;
	uint32_t ncount;       /* nc as a number; 0 without qop           */
};

size_t digest_hexlen(enum digest_alg alg);
const char *digest_alg_name(enum digest_alg alg);
int  digest_ha1(char *ha1, enum digest_alg alg, const struct pl *user,
		const struct pl *realm, const struct pl *pass);
int  digest_response(char *resp, enum digest_alg alg, const char *ha1,
		     const struct pl *method, const struct digest_cred *cred);
bool digest_verify(const struct digest_cred *cred, const struct pl *method,
		   const char *ha1);
int  digest_cred_decode(struct digest_cred *cred, const struct pl *hval);
int  digest_nonce_make(char *nonce, const uint8_t *key, size_t keylen,
		       uint64_t t, const uint8_t *rnd, const struct sa *src);
int  digest_nonce_check(uint64_t *t, const struct pl *nonce,
			const uint8_t *key, size_t keylen,
			const struct sa *src);


/*
 * Rate limits (ratelim.c): token buckets per source address; pure
 */

/** A rate: tokens per second and bucket size; rate 0 is "off" */
struct rate {
	uint32_t rate;
	uint32_t burst;
};

struct ratelim;

int  rate_decode(struct rate *r, const struct pl *pl);
int  ratelim_alloc(struct ratelim **rlp, const struct rate *rate,
		   uint32_t size);
bool ratelim_take(struct ratelim *rl, const struct sa *src, bool trusted,
		  uint64_t now);
uint32_t ratelim_count(const struct ratelim *rl);


/*
 * SIP authentication (sipauth.c): the lines' credentials, challenges,
 * nonce expiry and replays
 */

struct sipauth;

struct sipauth_cfg {
	const char *realm;
	uint32_t nonce_ttl;    /* s, a nonce is good this long            */
	bool sha256;           /* challenge with SHA-256 too              */
};

/** What a request's credentials are worth */
enum sipauth_verdict {
	SIPAUTH_OK = 0,
	SIPAUTH_CHALLENGE,     /* none for our realm: 401/407             */
	SIPAUTH_STALE,         /* right password, nonce old, foreign or
				  used: 401/407 with stale=true           */
	SIPAUTH_FORBIDDEN,     /* wrong user or password: 403             */
	SIPAUTH_LOCKED,        /* from an address that gave too many
				  wrong ones: 403, not even looked at     */
	SIPAUTH_BAD,           /* malformed: 400                          */
};

/** What the authenticator counted since start */
struct sipauth_stats {
	uint64_t ok;
	uint64_t challenged;
	uint64_t stale;
	uint64_t forbidden;
	uint64_t locked;
	uint64_t bad;
};

uint64_t sipauth_now(void);
int  sipauth_alloc(struct sipauth **authp, const struct sipauth_cfg *cfg);
int  sipauth_add(struct sipauth *auth, const struct pl *entry);
bool sipauth_on(const struct sipauth *auth);
enum sipauth_verdict sipauth_check(struct sipauth *auth,
				   const struct sip_msg *msg,
				   const struct pl *user, uint64_t now);
int  sipauth_challenge(struct mbuf *mb, struct sipauth *auth,
		       const struct sip_msg *msg, bool stale, uint64_t now);
int  sipauth_reply(struct sipauth *auth, struct sip *sip,
		   const struct sip_msg *msg, enum sipauth_verdict v,
		   uint64_t now);
uint64_t sipauth_tag(const struct sipauth *auth, const struct sip_msg *msg);
void sipauth_stats(const struct sipauth *auth, struct sipauth_stats *st);


/*
 * The gate (gate.c): a UDP helper on baresip's SIP sockets, in front of
 * libre: drops what is not SIP, rate-limits sources, challenges the
 * phone's INVITEs; its config keys and digest auth's (gatecfg.c)
 */

struct gate;

struct gate_cfg {
	struct rate rate;      /* a stranger's; rate 0: no limit          */
	struct sipauth *auth;  /* INVITEs to challenge, or NULL           */
};

/** What the gate counted since start */
struct gate_stats {
	uint64_t received;         /* datagrams on the SIP UDP sockets    */
	uint64_t dropped_rate;     /* over a source's rate limit          */
	uint64_t dropped_not_sip;  /* neither SIP nor STUN                */
	uint64_t dropped_maddr;    /* a request whose top Via has maddr   */
	uint64_t invites_answered; /* answered by the gate: 407/403/400   */
	uint64_t acks_absorbed;    /* ACKs to those answers               */
	uint32_t sockets;          /* SIP UDP sockets watched now         */
	uint32_t sources;          /* source addresses remembered now     */
};

int  gate_cfg_read(struct gate_cfg *cfg, const struct conf *conf);
int  gate_alloc(struct gate **gatep, struct sip *sip, struct lines *lines,
		const struct gate_cfg *cfg);
void gate_stats(const struct gate *gate, struct gate_stats *st);

#endif
