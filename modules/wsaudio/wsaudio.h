/**
 * @file wsaudio.h  wsaudio module: private interface
 *
 * Threads: everything in wsaudio runs on the libre main thread: the
 * source and the player are paced by libre timers, WebSocket messages
 * and commands arrive from the main loop. No locks are needed.
 */


/** The module: its one piece of state */
struct wsaudio {
	struct sp_core *core;
	struct ausrc *ausrc;
	struct auplay *auplay;
	struct list calll;     /* struct wacall, calls with audio      */
	uint32_t queue_ms;     /* wsaudio_queue_ms: audio queued to the
				  phone per client                     */
	enum ws_audio format;  /* wsaudio_format: for clients that ask
				  none                                 */
};


/*
 * Calls with audio (wacall.c): a call's device is "<line>/<call id>"
 */

struct wacall {
	struct le le;
	struct wsaudio *wsa;
	char *line;
	char *callid;
	uint64_t frames;       /* the phone's frames queued to clients */
	uint64_t dropped;      /* of those, dropped: a client lagged   */
};

int  wacall_get(struct wacall **wcp, struct wsaudio *wsa,
		const char *device);
bool wacall_heard_by(const struct wacall *wc, const struct ws_session *s);
int  wacall_stats(const char *callid, struct ws_call_stats *st, void *arg);


/*
 * A client's queue of audio to the phone (talkq.c): samples in, frames
 * out, drop-oldest, marks. Knows no session.
 */

struct talkq;

/* A mark playout reached, or whose audio was cleared before it played */
typedef void (talkq_mark_h)(const char *name, bool cleared, void *arg);

int  talkq_alloc(struct talkq **qp, uint32_t queue_ms, talkq_mark_h *markh,
		 void *arg);
int  talkq_push(struct talkq *q, const uint8_t *data, size_t len,
		enum ws_audio fmt, uint32_t *droppedp);
void talkq_pull(struct talkq *q, int16_t *sampv, size_t sampc);
uint32_t talkq_clear(struct talkq *q);
int  talkq_mark(struct talkq *q, const char *name);
void talkq_poll_marks(struct talkq *q);
uint32_t talkq_queued_ms(const struct talkq *q);
void talkq_stats(const struct talkq *q, struct ws_talk_stats *st);


/*
 * Sessions (session.c): each client's queue, binary messages and
 * commands, through the hub
 */

int  wasess_register(struct wsaudio *wsa);
void wasess_unregister(struct wsaudio *wsa);
struct talkq *wasess_talkq(const struct ws_session *s);


/*
 * Clock (clock.c): what a source and a player share -- a frame buffer
 * and a libre timer with absolute deadlines, one tick per ptime
 */

struct waclock {
	struct wsaudio *wsa;
	struct wacall *call;       /* NULL: not a call's device           */
	struct tmr tmr;
	uint64_t next;             /* absolute deadline, tmr_jiffies() ms */
	uint32_t ptime;
	int16_t *sampv;            /* one frame                           */
	size_t sampc;
};

int  waclock_start(struct waclock *ck, struct wsaudio *wsa,
		   const char *device, uint32_t srate, uint8_t ch,
		   uint32_t ptime, const char *what, tmr_h *th, void *arg);
uint64_t waclock_tick(struct waclock *ck, tmr_h *th, void *arg);
void waclock_stop(struct waclock *ck);


/*
 * Source (src.c): clients -> phone; player (play.c): phone -> clients
 */

struct ausrc_st {
	const struct ausrc *as;    /* base pointer, first (baresip 1.0.0) */
	struct waclock ck;
	ausrc_read_h *rh;
	void *arg;
};

struct auplay_st {
	const struct auplay *ap;   /* base pointer, first (baresip 1.0.0) */
	struct waclock ck;
	auplay_write_h *wh;
	void *arg;
};

int wsaudio_src_alloc(struct ausrc_st **stp, struct wsaudio *wsa,
		      const struct ausrc *as, struct ausrc_prm *prm,
		      const char *device, ausrc_read_h *rh, void *arg);
int wsaudio_play_alloc(struct auplay_st **stp, struct wsaudio *wsa,
		       const struct auplay *ap, struct auplay_prm *prm,
		       const char *device, auplay_write_h *wh, void *arg);
