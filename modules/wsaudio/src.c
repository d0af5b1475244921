/**
 * @file src.c  wsaudio source: what the clients say, to the phone
 *
 * Every ptime the source takes one frame from each client that listens
 * to the call's line, mixes them (summed, clipped) and hands the frame to
 * baresip, which encodes it and sends the RTP packet right away.
 * Paced by a libre timer with absolute deadlines (next += ptime), so
 * lateness of one tick never accumulates into drift.
 */

#include "sipphone.h"
#include "wsaudio.h"


static void src_destructor(void *arg)
{
	struct ausrc_st *st = arg;

	tmr_cancel(&st->tmr);
	mem_deref(st->sampv);
	mem_deref(st->call);
}


/* Sum every talking client of the call into one frame */
static void mix(struct ausrc_st *st)
{
	int32_t acc[WSA_FRAME];
	int16_t frame[WSA_FRAME];
	struct le *le;
	size_t i;
	bool any = false;

	memset(acc, 0, sizeof(acc));

	for (le = list_head(wshub_sessions(st->wsa->core->hub)); le;
	     le = le->next) {
		struct ws_session *s = le->data;
		struct talk *t = ws_session_audio_arg(s);

		if (!t || !wsaudio_session_hears(s, st->call))
			continue;

		talk_pull(t, frame, WSA_FRAME);
		for (i = 0; i < WSA_FRAME; i++)
			acc[i] += frame[i];
		any = true;
	}

	for (i = 0; i < WSA_FRAME; i++) {
		int32_t v = any ? acc[i] : 0;

		st->sampv[i] = (int16_t)(v > 32767 ? 32767 :
					 v < -32768 ? -32768 : v);
	}
}


static void src_tick(void *arg)
{
	struct ausrc_st *st = arg;
	struct auframe af;
	uint64_t now = tmr_jiffies();

	af.timestamp = st->next * 1000;
	st->next += st->prm.ptime;
	tmr_start(&st->tmr, st->next > now ? st->next - now : 0,
		  src_tick, st);

	if (st->call)
		mix(st);

	af.fmt = AUFMT_S16LE;
	af.sampv = st->sampv;
	af.sampc = st->sampc;

	st->rh(&af, st->arg);
}


/**
 * Start a source
 *
 * @param stp     Returned source
 * @param wsa     The module
 * @param as      Our registered source
 * @param prm     Format asked for; a call's must be 8 kHz mono, 20 ms
 * @param device  "<line>/<call id>" for a call, else anything
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

	if (!stp || !as || !prm || !rh || !prm->ptime || !prm->ch)
		return EINVAL;

	if (prm->fmt != AUFMT_S16LE)
		return ENOTSUP;

	st = mem_zalloc(sizeof(*st), src_destructor);
	if (!st)
		return ENOMEM;

	st->as = as;
	st->wsa = wsa;
	st->prm = *prm;
	st->rh = rh;
	st->arg = arg;
	tmr_init(&st->tmr);

	err = wacall_get(&st->call, wsa, device);
	if (err)
		goto out;

	if (st->call && (prm->srate != WSA_SRATE || prm->ch != 1 ||
			 prm->ptime != WSA_PTIME)) {
		warning("wsaudio: %s: source is %u Hz/%u ch/%u ms; set"
			" ausrc_srate 8000, ausrc_channels 1, ptime 20\n",
			device, prm->srate, prm->ch, prm->ptime);
		err = ENOTSUP;
		goto out;
	}

	st->sampc = prm->srate * prm->ch * prm->ptime / 1000;
	st->sampv = mem_zalloc(st->sampc * sizeof(int16_t), NULL);
	if (!st->sampv) {
		err = ENOMEM;
		goto out;
	}

	st->next = tmr_jiffies();
	tmr_start(&st->tmr, 0, src_tick, st);

 out:
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}
