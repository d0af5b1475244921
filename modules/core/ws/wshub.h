/**
 * @file wshub.h  /api/v1/ws: sessions, commands, audio hand-off, counters
 *
 * Part of sipphone.h, which includes libre, jansson and bsapi.h first:
 * include that.
 *
 * Threads: main thread only.
 */

#ifndef SP_WSHUB_H
#define SP_WSHUB_H

/*
 * WebSocket sessions (wshub.c): /api/v1/ws, shared by both modules
 */

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
		 struct evbus *bus);
int  wshub_command(struct wshub *hub, const char *name, wshub_cmd_h *h,
		   void *arg);
void wshub_uncommand_arg(struct wshub *hub, const void *arg);
void wshub_set_line_handler(struct wshub *hub, wshub_line_h *h, void *arg);
void wshub_set_audio(struct wshub *hub, enum ws_audio dflt,
		     wshub_session_h *sessh, wshub_audio_h *audioh, void *arg);
struct list *wshub_sessions(struct wshub *hub);

const char *ws_session_id(const struct ws_session *s);
const char *ws_session_line(const struct ws_session *s);
enum ws_audio ws_session_audio(const struct ws_session *s);
void ws_session_set_audio_arg(struct ws_session *s, void *arg);
void *ws_session_audio_arg(const struct ws_session *s);
int  ws_session_send_audio(struct ws_session *s, const void *data,
			   size_t len, uint32_t *droppedp);
int  ws_session_send_json(struct ws_session *s, json_t *msg);
int  ws_session_error(struct ws_session *s, const struct sp_err *err);


/*
 * Command messages (wscmd.c): a text message read and checked, the
 * answer left to the hub
 */

/** A decoded command message */
struct wscmd {
	json_t *msg;           /* the message; wscmd_reset() frees it   */
	json_t *id;            /* its "id" to echo, or NULL            */
	const char *name;      /* "command"                            */
	const json_t *args;    /* "args"; {} if it had none            */
	const void *found;     /* what the find handler gave for name  */
};

/* The command of that name, or NULL if there is none */
typedef const void *(wscmd_find_h)(const char *name, void *arg);

int  wscmd_decode(struct wscmd *cmd, const char *text, size_t len,
		  wscmd_find_h *findh, void *arg, struct sp_err *err);
void wscmd_reset(struct wscmd *cmd);


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

#endif
