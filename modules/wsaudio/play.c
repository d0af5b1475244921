/**
 * @file play.c  wsaudio player: audio from the phone, one frame per ptime
 *
 * Paced like the source; baresip's write handler fills our buffer from
 * its jitter buffer.
 */

#include "sipphone.h"
#include "wsaudio.h"


static void play_destructor(void *arg)
{
	struct auplay_st *st = arg;

	tmr_cancel(&st->tmr);
	mem_deref(st->sampv);
	mem_deref(st->device);
}


static void play_tick(void *arg)
{
	struct auplay_st *st = arg;
	uint64_t now = tmr_jiffies();

	st->next += st->prm.ptime;
	tmr_start(&st->tmr, st->next > now ? st->next - now : 0,
		  play_tick, st);

	st->wh(st->sampv, st->sampc, st->arg);
}


int wsaudio_play_alloc(struct auplay_st **stp, const struct auplay *ap,
		       struct auplay_prm *prm, const char *device,
		       auplay_write_h *wh, void *arg)
{
	struct auplay_st *st;
	int err;

	if (!stp || !ap || !prm || !wh || !prm->ptime)
		return EINVAL;

	if (prm->fmt != AUFMT_S16LE)
		return ENOTSUP;

	st = mem_zalloc(sizeof(*st), play_destructor);
	if (!st)
		return ENOMEM;

	st->ap = ap;
	st->prm = *prm;
	st->wh = wh;
	st->arg = arg;
	tmr_init(&st->tmr);

	st->sampc = prm->srate * prm->ch * prm->ptime / 1000;
	st->sampv = mem_zalloc(st->sampc * sizeof(int16_t), NULL);
	if (!st->sampv) {
		err = ENOMEM;
		goto out;
	}

	err = str_dup(&st->device, device);
	if (err)
		goto out;

	st->next = tmr_jiffies();
	tmr_start(&st->tmr, 0, play_tick, st);

 out:
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}
