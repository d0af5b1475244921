/**
 * @file talk.c  Audio a WebSocket client sends to the phone
 *
 * Clients send audio of any length, at any time. Each client's audio
 * goes into its own queue of 8 kHz samples, wsaudio_queue_ms long; when
 * it is full the oldest samples are dropped (and counted) so the phone
 * hears what is newest. The source takes one frame per ptime from every
 * client of its line, padding with silence when a queue runs dry.
 *
 * Positions are counted in samples since the session opened: "written"
 * grows with every sample queued, "played" with every sample taken or
 * dropped. A mark stands at the written position of its command and is
 * echoed once played reaches it.
 *
 * Commands: clear {} -> {"cleared_ms"}; mark {"name"} -> {"name",
 * "queued_ms"} now, {"type":"mark","name"} when played.
 */

#include "sipphone.h"
#include "wsaudio.h"


struct mark {
	struct le le;
	char *name;
	uint64_t pos;          /* written position it stands at */
};

struct talk {
	struct ws_session *s;
	int16_t *ring;
	size_t cap;            /* samples the ring holds          */
	size_t head;           /* index of the oldest sample      */
	size_t n;              /* samples queued                  */
	uint64_t written;
	uint64_t played;
	uint64_t dropped;      /* samples dropped: queue full     */
	uint64_t underruns;    /* frames padded with silence      */
	struct list markl;     /* struct mark, in position order  */
	struct tmr tmr_mark;   /* echo reached marks after the reply */
};


static void mark_destructor(void *arg)
{
	struct mark *m = arg;

	list_unlink(&m->le);
	mem_deref(m->name);
}


static void talk_destructor(void *arg)
{
	struct talk *t = arg;

	tmr_cancel(&t->tmr_mark);
	list_flush(&t->markl);
	mem_deref(t->ring);
}


/**
 * Create a client's queue to the phone
 *
 * @param tp        Returned queue
 * @param s         The client's session
 * @param queue_ms  How much audio it may queue
 *
 * @return 0 if success, otherwise errorcode
 */
int talk_alloc(struct talk **tp, struct ws_session *s, uint32_t queue_ms)
{
	struct talk *t;

	if (!tp || !s || !queue_ms)
		return EINVAL;

	t = mem_zalloc(sizeof(*t), talk_destructor);
	if (!t)
		return ENOMEM;

	t->s = s;
	tmr_init(&t->tmr_mark);
	t->cap = (size_t)queue_ms * AUDIO_SRATE / 1000;
	t->ring = mem_alloc(t->cap * sizeof(int16_t), NULL);
	if (!t->ring) {
		mem_deref(t);
		return ENOMEM;
	}

	*tp = t;

	return 0;
}


static uint32_t samples_ms(uint64_t n)
{
	return (uint32_t)(n * 1000 / AUDIO_SRATE);
}


/* Echo the marks that playout has reached */
static void marks_reached(struct talk *t, bool cleared)
{
	struct le *le;

	while ((le = list_head(&t->markl))) {
		struct mark *m = le->data;

		json_t *msg;

		if (!cleared && m->pos > t->played)
			break;

		msg = json_pack("{s:s, s:s}", "type", "mark", "name", m->name);
		if (msg && cleared)
			(void)json_object_set_new(msg, "cleared", json_true());
		(void)ws_session_send_json(t->s, msg);
		mem_deref(m);
	}
}


static void push_sample(struct talk *t, int16_t v)
{
	/* full: the oldest sample goes, as if it had been played */
	if (t->n == t->cap) {
		t->head = (t->head + 1) % t->cap;
		--t->n;
		++t->played;
		++t->dropped;
	}

	t->ring[(t->head + t->n) % t->cap] = v;
	++t->n;
	++t->written;
}


/**
 * Queue audio from the client
 *
 * @param t     Queue
 * @param data  Audio in the session's format
 * @param len   Bytes
 * @param fmt   The session's format
 *
 * @return 0 if queued, EINVAL for L16 with an odd byte count
 */
int talk_push(struct talk *t, const uint8_t *data, size_t len,
	      enum ws_audio fmt)
{
	uint64_t dropped;
	size_t i;

	if (!t || (!data && len))
		return EINVAL;

	if (fmt == WS_AUDIO_L16 && (len & 1))
		return EINVAL;

	dropped = t->dropped;

	if (fmt == WS_AUDIO_PCMU) {
		for (i = 0; i < len; i++)
			push_sample(t, g711_ulaw2pcm(data[i]));
	}
	else {
		for (i = 0; i + 1 < len; i += 2)
			push_sample(t, (int16_t)(data[i] | data[i+1] << 8));
	}

	if (t->dropped > dropped) {
		debug("wsaudio: %s: queue full, dropped %u ms\n",
		      ws_session_id(t->s), samples_ms(t->dropped - dropped));
		marks_reached(t, false);
	}

	return 0;
}


/**
 * Take one frame for the phone; silence where the queue ran dry
 *
 * @param t      Queue
 * @param sampv  Output samples
 * @param sampc  Samples wanted
 */
void talk_pull(struct talk *t, int16_t *sampv, size_t sampc)
{
	size_t i, take = min(sampc, t->n);

	for (i = 0; i < take; i++) {
		sampv[i] = t->ring[t->head];
		t->head = (t->head + 1) % t->cap;
	}
	t->n -= take;
	t->played += take;

	if (take && take < sampc)
		++t->underruns;

	memset(sampv + take, 0, (sampc - take) * sizeof(int16_t));

	if (!list_isempty(&t->markl))
		marks_reached(t, false);
}


/** Drop everything queued; returns how many ms were dropped */
uint32_t talk_clear(struct talk *t)
{
	uint32_t ms = samples_ms(t->n);

	t->played += t->n;
	t->head = 0;
	t->n = 0;

	/* marks of cleared audio will never play: echo them now */
	marks_reached(t, true);

	return ms;
}


static void mark_tick(void *arg)
{
	marks_reached(arg, false);
}


/** Place a mark after what is queued now */
int talk_mark(struct talk *t, const char *name)
{
	struct mark *m;

	m = mem_zalloc(sizeof(*m), mark_destructor);
	if (!m)
		return ENOMEM;

	if (str_dup(&m->name, name)) {
		mem_deref(m);
		return ENOMEM;
	}

	m->pos = t->written;
	list_append(&t->markl, &m->le, m);

	/* nothing ahead of it: it is reached already, and echoed once the
	   command's answer is out */
	if (!t->n)
		tmr_start(&t->tmr_mark, 0, mark_tick, t);

	return 0;
}


/** Audio waiting to be played, in ms */
uint32_t talk_queued_ms(const struct talk *t)
{
	return t ? samples_ms(t->n) : 0;
}


/** The queue's counters */
void talk_stats(const struct talk *t, struct ws_talk_stats *st)
{
	if (!t || !st)
		return;

	st->queued_ms = samples_ms(t->n);
	st->dropped_ms = t->dropped * 1000 / AUDIO_SRATE;
	st->underruns = t->underruns;
}


/* The hub asks for a session's counters (a wshub_talk_stats_h) */
static int talk_stats_handler(const struct ws_session *s,
			      struct ws_talk_stats *st, void *arg)
{
	const struct talk *t = ws_session_audio_arg(s);
	(void)arg;

	if (!t)
		return ENOENT;

	talk_stats(t, st);

	return 0;
}


static int cmd_clear(struct ws_session *s, const json_t *args,
		     json_t **resultp, struct sp_err *err, void *arg)
{
	struct talk *t = ws_session_audio_arg(s);
	(void)args;
	(void)arg;

	if (!t)
		return sp_err_set(err, 409, "audio_disabled",
				  "this session has no audio (audio=none)");

	*resultp = json_pack("{s:i}", "cleared_ms", (int)talk_clear(t));

	return 0;
}


static int cmd_mark(struct ws_session *s, const json_t *args,
		    json_t **resultp, struct sp_err *err, void *arg)
{
	struct talk *t = ws_session_audio_arg(s);
	const char *name = json_string_value(json_object_get(args, "name"));
	uint32_t queued;
	int e;
	(void)arg;

	if (!t)
		return sp_err_set(err, 409, "audio_disabled",
				  "this session has no audio (audio=none)");

	if (!name || str_len(name) > 256)
		return sp_err_set(err, 400, "invalid_field",
				  "\"name\" must be a string of up to 256"
				  " characters");

	queued = talk_queued_ms(t);

	*resultp = json_pack("{s:s, s:i}", "name", name, "queued_ms",
			     (int)queued);
	e = talk_mark(t, name);
	if (e) {
		json_decref(*resultp);
		*resultp = NULL;
		return sp_err_set(err, 500, "internal_error", "%m", e);
	}

	return 0;
}


static void session_handler(struct ws_session *s, bool open, void *arg)
{
	struct wsaudio *wsa = arg;
	struct talk *t = NULL;
	int err;

	if (!open) {
		mem_deref(ws_session_audio_arg(s));
		ws_session_set_audio_arg(s, NULL);
		return;
	}

	if (ws_session_audio(s) == WS_AUDIO_NONE)
		return;

	err = talk_alloc(&t, s, wsa->queue_ms);
	if (err) {
		warning("wsaudio: %s: no audio queue: %m\n",
			ws_session_id(s), err);
		return;
	}

	ws_session_set_audio_arg(s, t);
}


static void audio_handler(struct ws_session *s, const uint8_t *data,
			  size_t len, void *arg)
{
	struct talk *t = ws_session_audio_arg(s);
	struct sp_err e;
	(void)arg;

	if (!t)
		return;

	if (talk_push(t, data, len, ws_session_audio(s))) {
		sp_err_set(&e, 400, "invalid_audio",
			   "L16 audio must be whole 16-bit samples (an even"
			   " byte count); %zu bytes dropped", len);
		(void)ws_session_error(s, &e);
	}
}


/** Take the sessions' audio and the clear and mark commands */
int talk_register(struct wsaudio *wsa)
{
	struct wshub *hub = wsa->core->hub;
	int err = 0;

	err |= wshub_command(hub, "clear", cmd_clear, wsa);
	err |= wshub_command(hub, "mark", cmd_mark, wsa);
	if (err)
		return err;

	wshub_set_audio(hub, wsa->format, session_handler, audio_handler,
			wsa);
	wshub_set_stats(hub, talk_stats_handler, wsaudio_call_stats, wsa);

	return 0;
}


/** Give them back */
void talk_unregister(struct wsaudio *wsa)
{
	struct wshub *hub = wsa->core->hub;

	wshub_set_stats(hub, NULL, NULL, NULL);
	wshub_set_audio(hub, WS_AUDIO_DEFAULT, NULL, NULL, NULL);
	wshub_uncommand_arg(hub, wsa);
}
