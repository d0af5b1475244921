/**
 * @file bsapi.h  The part of the baresip 1.0.0 API that sipphone uses
 *
 * Debian ships baresip 1.0.0 without headers; /usr/bin/baresip exports its
 * API dynamically, so our modules declare here only what they call. Every
 * signature, enum order and struct layout below was checked against the
 * baresip v1.0.0 release. Do not build against another baresip version
 * without checking them again: a shifted enum or struct field is silent.
 *
 * Include after <re.h> (or sp_json.h) and <rem.h>.
 */

#ifndef SIPPHONE_BSAPI_H
#define SIPPHONE_BSAPI_H

#include <stdarg.h>

#define SIPPHONE_BARESIP_VERSION "1.0.0"


/* Forward declarations of opaque baresip objects */
struct account;
struct audio;
struct call;
struct commands;
struct media_ctx;
struct stream;
struct ua;
struct ausrc;
struct ausrc_st;
struct auplay;
struct auplay_st;
struct rtcp_stats;


/* Logging: printf-like with libre's %m, %r, %J ... conversions */
enum log_level {
	LEVEL_DEBUG = 0,
	LEVEL_INFO,
	LEVEL_WARN,
	LEVEL_ERROR,
};

void log_level_set(enum log_level level);
enum log_level log_level_get(void);
void loglv(enum log_level level, const char *fmt, ...);
void debug(const char *fmt, ...);
void info(const char *fmt, ...);
void warning(const char *fmt, ...);

/* baresip 1.0.0 names no function for its error level */
#define errlog(...) loglv(LEVEL_ERROR, __VA_ARGS__)


/* Configuration file of the running instance */
struct conf *conf_cur(void);
int conf_path_get(char *path, size_t sz);


/* Call */
enum vidmode {
	VIDMODE_OFF = 0,
	VIDMODE_ON,
};

enum call_state {
	CALL_STATE_IDLE = 0,
	CALL_STATE_INCOMING,
	CALL_STATE_OUTGOING,
	CALL_STATE_RINGING,
	CALL_STATE_EARLY,
	CALL_STATE_ESTABLISHED,
	CALL_STATE_TERMINATED,
	CALL_STATE_UNKNOWN
};

int  call_send_digit(struct call *call, char key);  /* or KEYCODE_REL */
uint16_t call_scode(const struct call *call);
enum call_state call_state(const struct call *call);
uint32_t call_duration(const struct call *call);
const char *call_id(const struct call *call);
const char *call_peeruri(const struct call *call);
const char *call_peername(const struct call *call);
const char *call_localuri(const struct call *call);
struct audio *call_audio(const struct call *call);
struct ua *call_get_ua(const struct call *call);
bool call_is_outgoing(const struct call *call);


/* Audio stream of a call */
int audio_set_devicename(struct audio *a, const char *src, const char *play);
struct stream *audio_strm(const struct audio *au);

/* Media stream: RTP counters, and RTCP statistics (struct rtcp_stats is
   libre's, re_rtp.h), updated when a sender report comes from the peer */
const struct rtcp_stats *stream_rtcp_stats(const struct stream *strm);
uint32_t stream_metric_get_tx_n_packets(const struct stream *strm);
uint32_t stream_metric_get_rx_n_packets(const struct stream *strm);
uint32_t stream_metric_get_rx_n_err(const struct stream *strm);


/* Audio frame handed to an ausrc read handler */
struct auframe {
	int fmt;             /* enum aufmt                   */
	void *sampv;         /* samples                      */
	size_t sampc;        /* number of samples, all chans */
	uint64_t timestamp;  /* AUDIO_TIMEBASE units (usec)  */
};

#define AUDIO_TIMEBASE 1000000U


/* Audio source */
struct ausrc_prm {
	uint32_t srate;      /* Hz                    */
	uint8_t  ch;         /* channels              */
	uint32_t ptime;      /* packet time, ms       */
	int      fmt;        /* enum aufmt            */
};

typedef void (ausrc_read_h)(struct auframe *af, void *arg);
typedef void (ausrc_error_h)(int err, const char *str, void *arg);
typedef int  (ausrc_alloc_h)(struct ausrc_st **stp, const struct ausrc *as,
			     struct media_ctx **ctx, struct ausrc_prm *prm,
			     const char *device, ausrc_read_h *rh,
			     ausrc_error_h *errh, void *arg);

int ausrc_register(struct ausrc **asp, struct list *ausrcl, const char *name,
		   ausrc_alloc_h *alloch);


/* Audio player: the write handler pulls sampc samples into sampv */
struct auplay_prm {
	uint32_t srate;
	uint8_t  ch;
	uint32_t ptime;
	int      fmt;
};

typedef void (auplay_write_h)(void *sampv, size_t sampc, void *arg);
typedef int  (auplay_alloc_h)(struct auplay_st **stp, const struct auplay *ap,
			      struct auplay_prm *prm, const char *device,
			      auplay_write_h *wh, void *arg);

int auplay_register(struct auplay **pp, struct list *auplayl,
		    const char *name, auplay_alloc_h *alloch);


/* User agent; the order of enum ua_event is part of the 1.0.0 ABI */
enum ua_event {
	UA_EVENT_REGISTERING = 0,
	UA_EVENT_REGISTER_OK,
	UA_EVENT_REGISTER_FAIL,
	UA_EVENT_UNREGISTERING,
	UA_EVENT_MWI_NOTIFY,
	UA_EVENT_SHUTDOWN,
	UA_EVENT_EXIT,

	UA_EVENT_CALL_INCOMING,
	UA_EVENT_CALL_RINGING,
	UA_EVENT_CALL_PROGRESS,
	UA_EVENT_CALL_ESTABLISHED,
	UA_EVENT_CALL_CLOSED,
	UA_EVENT_CALL_TRANSFER,
	UA_EVENT_CALL_TRANSFER_FAILED,
	UA_EVENT_CALL_DTMF_START,
	UA_EVENT_CALL_DTMF_END,
	UA_EVENT_CALL_RTPESTAB,
	UA_EVENT_CALL_RTCP,
	UA_EVENT_CALL_MENC,
	UA_EVENT_VU_TX,
	UA_EVENT_VU_RX,
	UA_EVENT_AUDIO_ERROR,
	UA_EVENT_CALL_LOCAL_SDP,
	UA_EVENT_CALL_REMOTE_SDP,

	UA_EVENT_MAX,
};

typedef void (ua_event_h)(struct ua *ua, enum ua_event ev,
			  struct call *call, const char *prm, void *arg);

const char *account_display_name(const struct account *acc);
int  account_set_display_name(struct account *acc, const char *dname);

int  ua_alloc(struct ua **uap, const char *aor);
int  ua_connect(struct ua *ua, struct call **callp, const char *from_uri,
		const char *req_uri, enum vidmode vmode);
void ua_hangup(struct ua *ua, struct call *call, uint16_t scode,
	       const char *reason);
int  ua_answer(struct ua *ua, struct call *call, enum vidmode vmode);
void ua_set_catchall(struct ua *ua, bool enabled);
const char *ua_aor(const struct ua *ua);
struct account *ua_account(const struct ua *ua);
struct list *ua_calls(const struct ua *ua);

int  uag_event_register(ua_event_h *eh, void *arg);
void uag_event_unregister(ua_event_h *eh);
struct sip *uag_sip(void);
const char *uag_event_str(enum ua_event ev);


/* Console commands; a key code, not a digit: the end of a DTMF tone */
#define KEYCODE_REL 0x04

enum {
	CMD_PRM = (1 << 0),  /* the command takes a parameter */
};

struct cmd_arg {
	char key;
	char *prm;
	void *data;
};

struct cmd {
	const char *name;
	char key;
	int flags;
	const char *desc;
	re_printf_h *h;
};

int  cmd_register(struct commands *commands, const struct cmd *cmdv,
		  size_t cmdc);
void cmd_unregister(struct commands *commands, const struct cmd *cmdv);


/* Network: the addresses baresip found for this machine */
struct network;

const struct sa *net_laddr_af(const struct network *net, int af);


/* Baresip instance */
struct commands *baresip_commands(void);
struct list *baresip_ausrcl(void);
struct list *baresip_auplayl(void);
struct network *baresip_network(void);


#endif
