/**
 * @file src.c  wsaudio source: what the clients say, to the phone
 *
 * Every ptime the source takes one frame from each client that listens
 * to the call's line, mixes them (summed, clipped) and hands the frame to
 * baresip, which encodes it and sends the RTP packet right away.
 */

#include "sipphone.h"
#include "wsaudio.h"


static void src_destructor(void *arg)
{
	struct ausrc_st *st = arg;

	waclock_stop(&st->ck);
}


/* Sum every talking client of the call into one frame */
static void mix(struct waclock *ck)
{
	int32_t acc[AUDIO_SAMPC];
	int16_t frame[AUDIO_SAMPC];
	struct le *le;
	size_t i;

	memset(acc, 0, sizeof(acc));

	for (le = list_head(wshub_sessions(ck->wsa->core->hub)); le;
	     le = le->next) {
		struct ws_session *s = le->data;
		struct talkq *q = wasess_talkq(s);

		if (!q || !wacall_heard_by(ck->call, s))
			continue;

		talkq_pull(q, frame, AUDIO_SAMPC);
		for (i = 0; i < AUDIO_SAMPC; i++)
			acc[i] += frame[i];
	}

	for (i = 0; i < AUDIO_SAMPC; i++) {
		int32_t v = acc[i];

		ck->sampv[i] = (int16_t)(v > 32767 ? 32767 :
					 v < -32768 ? -32768 : v);
	}
}


static void src_tick(void *arg)
{
	struct ausrc_st *st = arg;
	struct auframe af;

	af.timestamp = waclock_tick(&st->ck, src_tick, st) * 1000;

	if (st->ck.call)
		mix(&st->ck);

	af.fmt = AUFMT_S16LE;
	af.sampv = st->ck.sampv;
	af.sampc = st->ck.sampc;

	st->rh(&af, st->arg);
}


/**
 * Start a source
 *
 * @param stp     Returned source
 * @param wsa     The module
 * @param as      Our registered source
 * @param prm     Format asked for; a call's must be the phone's (AUDIO_*)
 * @param device  "<line>/<call id>" for a call, else anything (silence)
 * @param rh      Where frames go
 * @param arg     Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int wsaudio_src_alloc(struct ausrc_st **stp, struct wsaudio *wsa,
		      const struct ausrc *as, struct ausrc_prm *prm,
		      const char *device, ausrc_read_h *rh, void *arg)
{
	struct ausrc_st *st;
	int err;

	if (!stp || !as || !prm || !rh)
		return EINVAL;

	if (prm->fmt != AUFMT_S16LE)
		return ENOTSUP;

	st = mem_zalloc(sizeof(*st), src_destructor);
	if (!st)
		return ENOMEM;

	st->as = as;
	st->rh = rh;
	st->arg = arg;

	err = waclock_start(&st->ck, wsa, device, prm->srate, prm->ch,
			    prm->ptime, "source", src_tick, st);
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}
