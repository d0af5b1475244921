/**
 * @file play.c  wsaudio player: what the phone says, to the clients
 *
 * Every ptime the player takes one frame from baresip's receive buffer
 * and sends it to every client of the call's line that wants audio, as
 * one binary message: PCMU (160 bytes) or L16 little-endian (320 bytes),
 * each encoded once per frame. A client that lags loses frames (its
 * queue drops the oldest), never delays the others.
 *
 * The frames queued and those a client's queue dropped to make room for
 * them count for the call (wacall.c).
 */

#include "sipphone.h"
#include "wsaudio.h"


static void play_destructor(void *arg)
{
	struct auplay_st *st = arg;

	waclock_stop(&st->ck);
}


/* Queue a frame to a client; the drops it causes count for the call */
static void send_to(struct wacall *call, struct ws_session *s,
		    const uint8_t *frame, size_t len)
{
	uint32_t dropped;

	if (0 == ws_session_send_audio(s, frame, len, &dropped))
		++call->frames;

	call->dropped += dropped;
}


static void send_frame(const struct waclock *ck)
{
	uint8_t pcmu[AUDIO_PCMU_SIZE], l16[AUDIO_L16_SIZE];
	bool have_pcmu = false, have_l16 = false;
	struct le *le;
	size_t i;

	for (le = list_head(wshub_sessions(ck->wsa->core->hub)); le;
	     le = le->next) {
		struct ws_session *s = le->data;

		if (!wacall_heard_by(ck->call, s))
			continue;

		switch (ws_session_audio(s)) {

		case WS_AUDIO_PCMU:
			if (!have_pcmu) {
				for (i = 0; i < AUDIO_SAMPC; i++)
					pcmu[i] = g711_pcm2ulaw(ck->sampv[i]);
				have_pcmu = true;
			}
			send_to(ck->call, s, pcmu, sizeof(pcmu));
			break;

		case WS_AUDIO_L16:
			if (!have_l16) {
				for (i = 0; i < AUDIO_SAMPC; i++) {
					uint16_t v = (uint16_t)ck->sampv[i];

					l16[2*i] = v & 0xff;
					l16[2*i + 1] = v >> 8;
				}
				have_l16 = true;
			}
			send_to(ck->call, s, l16, sizeof(l16));
			break;

		default:
			break;
		}
	}
}


static void play_tick(void *arg)
{
	struct auplay_st *st = arg;

	(void)waclock_tick(&st->ck, play_tick, st);

	st->wh(st->ck.sampv, st->ck.sampc, st->arg);

	if (st->ck.call)
		send_frame(&st->ck);
}


/**
 * Start a player
 *
 * @param stp     Returned player
 * @param wsa     The module
 * @param ap      Our registered player
 * @param prm     Format asked for; a call's must be the phone's (AUDIO_*)
 * @param device  "<line>/<call id>" for a call, else anything (its sound
 *                is taken at real-time pace and goes nowhere)
 * @param wh      Where frames come from
 * @param arg     Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int wsaudio_play_alloc(struct auplay_st **stp, struct wsaudio *wsa,
		       const struct auplay *ap, struct auplay_prm *prm,
		       const char *device, auplay_write_h *wh, void *arg)
{
	struct auplay_st *st;
	int err;

	if (!stp || !ap || !prm || !wh)
		return EINVAL;

	if (prm->fmt != AUFMT_S16LE)
		return ENOTSUP;

	st = mem_zalloc(sizeof(*st), play_destructor);
	if (!st)
		return ENOMEM;

	st->ap = ap;
	st->wh = wh;
	st->arg = arg;

	err = waclock_start(&st->ck, wsa, device, prm->srate, prm->ch,
			    prm->ptime, "player", play_tick, st);
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}
