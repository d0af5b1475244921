/**
 * @file talkq.c  A client's queue of audio to the phone
 *
 * Clients send audio of any length, at any time. Each client's audio
 * goes into its own queue of samples at the phone's rate, wsaudio_queue_ms
 * long; when it is full the oldest samples are dropped (and counted) so
 * the phone hears what is newest. The source takes one frame per ptime,
 * padded with silence when the queue runs dry.
 *
 * Positions are counted in samples since the queue was made: "written"
 * grows with every sample queued, "played" with every sample taken or
 * dropped. A mark stands at the written position of its command and is
 * reported once played reaches it, or at once, as cleared, when the
 * audio ahead of it is cleared.
 *
 * The queue knows nothing of sessions: session.c owns one per client and
 * turns its reports into messages.
 */

#include "sipphone.h"
#include "wsaudio.h"


struct mark {
	struct le le;
	char *name;
	uint64_t pos;          /* written position it stands at   */
};

struct talkq {
	int16_t *ring;
	size_t cap;            /* samples the ring holds          */
	size_t head;           /* index of the oldest sample      */
	size_t n;              /* samples queued                  */
	uint64_t written;
	uint64_t played;
	uint64_t dropped;      /* samples dropped: queue full     */
	uint64_t underruns;    /* frames padded with silence      */
	struct list markl;     /* struct mark, in position order  */
	talkq_mark_h *markh;
	void *arg;
};


static void mark_destructor(void *arg)
{
	struct mark *m = arg;

	list_unlink(&m->le);
	mem_deref(m->name);
}


static void talkq_destructor(void *arg)
{
	struct talkq *q = arg;

	list_flush(&q->markl);
	mem_deref(q->ring);
}


/**
 * Create a queue of audio to the phone
 *
 * @param qp        Returned queue
 * @param queue_ms  How much audio it may hold
 * @param markh     Told of each mark playout reaches, or that is cleared
 * @param arg       Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int talkq_alloc(struct talkq **qp, uint32_t queue_ms, talkq_mark_h *markh,
		void *arg)
{
	struct talkq *q;

	if (!qp || !queue_ms || !markh)
		return EINVAL;

	q = mem_zalloc(sizeof(*q), talkq_destructor);
	if (!q)
		return ENOMEM;

	q->markh = markh;
	q->arg = arg;
	q->cap = (size_t)queue_ms * AUDIO_SRATE / 1000;
	q->ring = mem_alloc(q->cap * sizeof(int16_t), NULL);
	if (!q->ring) {
		mem_deref(q);
		return ENOMEM;
	}

	*qp = q;

	return 0;
}


static uint32_t samples_ms(uint64_t n)
{
	return (uint32_t)(n * 1000 / AUDIO_SRATE);
}


/* Report the marks that playout has reached, or all when cleared */
static void marks_reached(struct talkq *q, bool cleared)
{
	struct le *le;

	while ((le = list_head(&q->markl))) {
		struct mark *m = le->data;

		if (!cleared && m->pos > q->played)
			break;

		q->markh(m->name, cleared, q->arg);
		mem_deref(m);
	}
}


static void push_sample(struct talkq *q, int16_t v)
{
	/* full: the oldest sample goes, as if it had been played */
	if (q->n == q->cap) {
		q->head = (q->head + 1) % q->cap;
		--q->n;
		++q->played;
		++q->dropped;
	}

	q->ring[(q->head + q->n) % q->cap] = v;
	++q->n;
	++q->written;
}


/**
 * Queue audio from the client
 *
 * @param q         Queue
 * @param data      Audio in the session's format
 * @param len       Bytes
 * @param fmt       The session's format, PCMU or L16
 * @param droppedp  Returned ms of older audio dropped to make room; may
 *                  be NULL
 *
 * @return 0 if queued, EINVAL for L16 with an odd byte count or another
 *         format
 */
int talkq_push(struct talkq *q, const uint8_t *data, size_t len,
	       enum ws_audio fmt, uint32_t *droppedp)
{
	uint64_t dropped;
	size_t i;

	if (droppedp)
		*droppedp = 0;

	if (!q || (!data && len))
		return EINVAL;

	if (fmt == WS_AUDIO_L16 && (len & 1))
		return EINVAL;

	dropped = q->dropped;

	if (fmt == WS_AUDIO_PCMU) {
		for (i = 0; i < len; i++)
			push_sample(q, g711_ulaw2pcm(data[i]));
	}
	else if (fmt == WS_AUDIO_L16) {
		for (i = 0; i + 1 < len; i += 2)
			push_sample(q, (int16_t)(data[i] | data[i+1] << 8));
	}
	else
		return EINVAL;

	if (q->dropped > dropped) {
		if (droppedp)
			*droppedp = samples_ms(q->dropped - dropped);

		/* dropped audio counts as played: marks in it are passed */
		marks_reached(q, false);
	}

	return 0;
}


/**
 * Take one frame for the phone; silence where the queue ran dry
 *
 * @param q      Queue
 * @param sampv  Output samples
 * @param sampc  Samples wanted
 */
void talkq_pull(struct talkq *q, int16_t *sampv, size_t sampc)
{
	size_t i, take = min(sampc, q->n);

	for (i = 0; i < take; i++) {
		sampv[i] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
	}
	q->n -= take;
	q->played += take;

	if (take && take < sampc)
		++q->underruns;

	memset(sampv + take, 0, (sampc - take) * sizeof(int16_t));

	talkq_poll_marks(q);
}


/**
 * Drop everything queued; the marks of that audio are reported cleared
 *
 * @return the ms of audio dropped
 */
uint32_t talkq_clear(struct talkq *q)
{
	uint32_t ms = samples_ms(q->n);

	q->played += q->n;
	q->head = 0;
	q->n = 0;

	marks_reached(q, true);

	return ms;
}


/**
 * Place a mark after what is queued now. It is reported by the next
 * pull, push, clear or talkq_poll_marks() that finds it reached: never
 * from here, so a caller can answer the command first.
 *
 * @param q     Queue
 * @param name  The mark's name
 *
 * @return 0 if success, otherwise errorcode
 */
int talkq_mark(struct talkq *q, const char *name)
{
	struct mark *m;

	if (!q || !name)
		return EINVAL;

	m = mem_zalloc(sizeof(*m), mark_destructor);
	if (!m)
		return ENOMEM;

	if (str_dup(&m->name, name)) {
		mem_deref(m);
		return ENOMEM;
	}

	m->pos = q->written;
	list_append(&q->markl, &m->le, m);

	return 0;
}


/** Report the marks playout has reached */
void talkq_poll_marks(struct talkq *q)
{
	if (q && !list_isempty(&q->markl))
		marks_reached(q, false);
}


/** Audio waiting to be played, in ms */
uint32_t talkq_queued_ms(const struct talkq *q)
{
	return q ? samples_ms(q->n) : 0;
}


/** The queue's counters */
void talkq_stats(const struct talkq *q, struct ws_talk_stats *st)
{
	if (!q || !st)
		return;

	st->queued_ms = samples_ms(q->n);
	st->dropped_ms = q->dropped * 1000 / AUDIO_SRATE;
	st->underruns = q->underruns;
}
