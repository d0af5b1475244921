/**
 * @file session.c  wsaudio's side of a WebSocket session: its queue to
 *                  the phone, its binary messages, its commands
 *
 * The hub tells wsaudio of every session that opens and closes; one that
 * wants audio gets a talk queue (talkq.c), fed with its binary messages.
 * The marks the queue reports go back to the client as messages.
 *
 * Commands: clear {} -> {"cleared_ms"}; mark {"name"} -> {"name",
 * "queued_ms"} now, {"type":"mark","name"} when played (with "cleared":
 * true if its audio was cleared first).
 */

#include "sipphone.h"
#include "wsaudio.h"


enum {
	MARK_NAME_MAX = 256,
};

/** A session's audio state, its audio arg in the hub */
struct wasess {
	struct ws_session *s;
	struct talkq *q;
	struct tmr tmr_mark;   /* reached marks, after the command's answer */
};


static void wasess_destructor(void *arg)
{
	struct wasess *ss = arg;

	tmr_cancel(&ss->tmr_mark);
	mem_deref(ss->q);
}


/* The queue reached a mark, or cleared the audio before it (a
   talkq_mark_h) */
static void mark_handler(const char *name, bool cleared, void *arg)
{
	struct wasess *ss = arg;
	json_t *msg;

	msg = json_pack("{s:s, s:s}", "type", "mark", "name", name);
	if (msg && cleared)
		(void)json_object_set_new(msg, "cleared", json_true());

	(void)ws_session_send_json(ss->s, msg);
}


static void mark_tick(void *arg)
{
	struct wasess *ss = arg;

	talkq_poll_marks(ss->q);
}


/**
 * A session's queue to the phone
 *
 * @return the queue, or NULL if the session has no audio
 */
struct talkq *wasess_talkq(const struct ws_session *s)
{
	const struct wasess *ss = ws_session_audio_arg(s);

	return ss ? ss->q : NULL;
}


/* The hub asks for a session's counters (a wshub_talk_stats_h) */
static int talk_stats_handler(const struct ws_session *s,
			      struct ws_talk_stats *st, void *arg)
{
	const struct talkq *q = wasess_talkq(s);
	(void)arg;

	if (!q)
		return ENOENT;

	talkq_stats(q, st);

	return 0;
}


static int cmd_clear(struct ws_session *s, const json_t *args,
		     json_t **resultp, struct sp_err *err, void *arg)
{
	struct talkq *q = wasess_talkq(s);
	(void)args;
	(void)arg;

	if (!q)
		return sp_err_set(err, 409, "audio_disabled",
				  "this session has no audio (audio=none)");

	*resultp = json_pack("{s:i}", "cleared_ms", (int)talkq_clear(q));

	return 0;
}


static int cmd_mark(struct ws_session *s, const json_t *args,
		    json_t **resultp, struct sp_err *err, void *arg)
{
	struct wasess *ss = ws_session_audio_arg(s);
	const char *name = json_string_value(json_object_get(args, "name"));
	int e;
	(void)arg;

	if (!ss)
		return sp_err_set(err, 409, "audio_disabled",
				  "this session has no audio (audio=none)");

	if (!name || str_len(name) > MARK_NAME_MAX)
		return sp_err_set(err, 400, "invalid_field",
				  "\"name\" must be a string of up to %u"
				  " characters", MARK_NAME_MAX);

	*resultp = json_pack("{s:s, s:i}", "name", name, "queued_ms",
			     (int)talkq_queued_ms(ss->q));
	e = talkq_mark(ss->q, name);
	if (e) {
		json_decref(*resultp);
		*resultp = NULL;
		return sp_err_set(err, 500, "internal_error", "%m", e);
	}

	/* with nothing ahead of it, the mark is reached already: it is
	   echoed once the command's answer is out */
	tmr_start(&ss->tmr_mark, 0, mark_tick, ss);

	return 0;
}


static int wasess_alloc(struct wasess **ssp, struct ws_session *s,
			uint32_t queue_ms)
{
	struct wasess *ss;
	int err;

	ss = mem_zalloc(sizeof(*ss), wasess_destructor);
	if (!ss)
		return ENOMEM;

	ss->s = s;
	tmr_init(&ss->tmr_mark);

	err = talkq_alloc(&ss->q, queue_ms, mark_handler, ss);
	if (err)
		mem_deref(ss);
	else
		*ssp = ss;

	return err;
}


/* A session opened or closed (a wshub_session_h) */
static void session_handler(struct ws_session *s, bool open, void *arg)
{
	struct wsaudio *wsa = arg;
	struct wasess *ss = NULL;
	int err;

	if (!open) {
		mem_deref(ws_session_audio_arg(s));
		ws_session_set_audio_arg(s, NULL);
		return;
	}

	if (ws_session_audio(s) == WS_AUDIO_NONE)
		return;

	err = wasess_alloc(&ss, s, wsa->queue_ms);
	if (err) {
		warning("wsaudio: %s: no audio queue: %m\n",
			ws_session_id(s), err);
		return;
	}

	ws_session_set_audio_arg(s, ss);
}


/* A binary message: audio for the phone (a wshub_audio_h) */
static void audio_handler(struct ws_session *s, const uint8_t *data,
			  size_t len, void *arg)
{
	struct talkq *q = wasess_talkq(s);
	uint32_t dropped;
	struct sp_err e;
	(void)arg;

	if (!q)
		return;

	if (talkq_push(q, data, len, ws_session_audio(s), &dropped)) {
		sp_err_set(&e, 400, "invalid_audio",
			   "L16 audio must be whole 16-bit samples (an even"
			   " byte count); %zu bytes dropped", len);
		(void)ws_session_error(s, &e);
		return;
	}

	if (dropped)
		debug("wsaudio: %s: queue full, dropped %u ms\n",
		      ws_session_id(s), dropped);
}


/** Take the sessions' audio, their counters and the clear and mark
    commands */
int wasess_register(struct wsaudio *wsa)
{
	struct wshub *hub = wsa->core->hub;
	int err = 0;

	err |= wshub_command(hub, "clear", cmd_clear, wsa);
	err |= wshub_command(hub, "mark", cmd_mark, wsa);
	if (err)
		return err;

	wshub_set_audio(hub, wsa->format, session_handler, audio_handler,
			wsa);
	wshub_set_stats(hub, talk_stats_handler, wacall_stats, wsa);

	return 0;
}


/** Give them back */
void wasess_unregister(struct wsaudio *wsa)
{
	struct wshub *hub = wsa->core->hub;

	wshub_set_stats(hub, NULL, NULL, NULL);
	wshub_set_audio(hub, WS_AUDIO_DEFAULT, NULL, NULL, NULL);
	wshub_uncommand_arg(hub, wsa);
}
