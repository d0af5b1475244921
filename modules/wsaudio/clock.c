/**
 * @file clock.c  The clock of a source or a player: one frame per ptime
 *
 * A libre timer with absolute deadlines (next += ptime; wait next - now),
 * so the lateness of one tick never accumulates into drift; a tick that
 * comes late is followed by one that comes early.
 */

#include "sipphone.h"
#include "wsaudio.h"


/**
 * Start a clock
 *
 * @param ck      Clock (zeroed, inside its source or player)
 * @param wsa     The module
 * @param device  Audio device: "<line>/<call id>" for a call
 * @param srate   Sample rate; a call's must be AUDIO_SRATE
 * @param ch      Channels; a call's must be AUDIO_CH
 * @param ptime   Frame length in ms; a call's must be AUDIO_PTIME
 * @param what    "source" or "player", for the log
 * @param th      Tick handler
 * @param arg     Tick handler argument
 *
 * @return 0 if success, ENOTSUP for a call in another format, otherwise
 *         errorcode
 */
int waclock_start(struct waclock *ck, struct wsaudio *wsa,
		  const char *device, uint32_t srate, uint8_t ch,
		  uint32_t ptime, const char *what, tmr_h *th, void *arg)
{
	int err;

	if (!srate || !ch || !ptime)
		return EINVAL;

	ck->wsa = wsa;
	ck->ptime = ptime;
	tmr_init(&ck->tmr);

	err = wacall_get(&ck->call, wsa, device);
	if (err)
		return err;

	if (ck->call && (srate != AUDIO_SRATE || ch != AUDIO_CH ||
			 ptime != AUDIO_PTIME)) {
		warning("wsaudio: %s: %s is %u Hz/%u ch/%u ms; the phone's"
			" audio is %u Hz, %u channel, %u ms (ausrc_srate,"
			" auplay_srate %u; *_channels %u)\n",
			device, what, srate, ch, ptime, AUDIO_SRATE, AUDIO_CH,
			AUDIO_PTIME, AUDIO_SRATE, AUDIO_CH);
		return ENOTSUP;
	}

	ck->sampc = srate * ch * ptime / 1000;
	ck->sampv = mem_zalloc(ck->sampc * sizeof(int16_t), NULL);
	if (!ck->sampv)
		return ENOMEM;

	ck->next = tmr_jiffies();
	tmr_start(&ck->tmr, 0, th, arg);

	return 0;
}


/**
 * Schedule the next tick; call first thing in the tick handler
 *
 * @return the time this tick was due, in ms (tmr_jiffies)
 */
uint64_t waclock_tick(struct waclock *ck, tmr_h *th, void *arg)
{
	uint64_t now = tmr_jiffies(), due = ck->next;

	ck->next += ck->ptime;
	tmr_start(&ck->tmr, ck->next > now ? ck->next - now : 0, th, arg);

	return due;
}


/** Stop a clock and let its call go */
void waclock_stop(struct waclock *ck)
{
	tmr_cancel(&ck->tmr);
	ck->sampv = mem_deref(ck->sampv);
	ck->call = mem_deref(ck->call);
}
