/**
 * @file src.c  wsaudio source: audio to the phone, one frame per ptime
 *
 * Paced by a libre timer with absolute deadlines (next += ptime), so
 * timer lateness never accumulates into drift.
 */

#include "sipphone.h"
#include "wsaudio.h"


static void src_destructor(void *arg)
{
	struct ausrc_st *st = arg;

	tmr_cancel(&st->tmr);
	mem_deref(st->sampv);
	mem_deref(st->device);
}


static void src_tick(void *arg)
{
	struct ausrc_st *st = arg;
	struct auframe af;
	uint64_t now = tmr_jiffies();

	st->next += st->prm.ptime;
	tmr_start(&st->tmr, st->next > now ? st->next - now : 0,
		  src_tick, st);

	af.fmt = AUFMT_S16LE;
	af.sampv = st->sampv;
	af.sampc = st->sampc;
	af.timestamp = (st->next - st->prm.ptime) * 1000;

	st->rh(&af, st->arg);
}


int wsaudio_src_alloc(struct ausrc_st **stp, const struct ausrc *as,
		      struct media_ctx **ctx, struct ausrc_prm *prm,
		      const char *device, ausrc_read_h *rh,
		      ausrc_error_h *errh, void *arg)
{
	struct ausrc_st *st;
	int err;
	(void)ctx;
	(void)errh;

	if (!stp || !as || !prm || !rh || !prm->ptime)
		return EINVAL;

	if (prm->fmt != AUFMT_S16LE)
		return ENOTSUP;

	st = mem_zalloc(sizeof(*st), src_destructor);
	if (!st)
		return ENOMEM;

	st->as = as;
	st->prm = *prm;
	st->rh = rh;
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
	tmr_start(&st->tmr, 0, src_tick, st);

 out:
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}
