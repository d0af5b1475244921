/**
 * @file wsaudio.c  sipphone's media plane: a call's audio over WebSocket
 *
 * An audio source and player named "wsaudio". Each call's audio device
 * is named "<line>/<call id>" (httpctl sets it), so only a call's own
 * source and player carry its audio; sounds played on other devices
 * (menu.so's ring tones on "alert") are taken at real-time pace and go
 * nowhere.
 *
 * Phone -> clients: each 20 ms frame, as one binary message, to every
 * client of the call's line (PCMU or L16). Clients -> phone: any amount
 * of audio at any time, queued per client, mixed, played at real-time
 * pace. Commands "clear" and "mark" act on a client's queue.
 *
 \verbatim
  module            wsaudio.so
  audio_source      wsaudio,none
  audio_player      wsaudio,none
  audio_alert       wsaudio,alert
  wsaudio_format    pcmu           # pcmu, l16: for clients that ask none
  wsaudio_queue_ms  2000           # audio a client may queue
 \endverbatim
 *
 * Threads: main thread only (see wsaudio.h).
 */

#include "sipphone.h"
#include "wsaudio.h"


enum {
	QUEUE_MS_DEFAULT = 2000,
	QUEUE_MS_MAX = 60000,
};

/* The module's one piece of state */
static struct wsaudio *wsa;


/* baresip calls these with nothing of ours: wsa is the way back */
static int src_alloc(struct ausrc_st **stp, const struct ausrc *as,
		     struct media_ctx **ctx, struct ausrc_prm *prm,
		     const char *device, ausrc_read_h *rh,
		     ausrc_error_h *errh, void *arg)
{
	(void)ctx;
	(void)errh;

	return wsaudio_src_alloc(stp, wsa, as, prm, device, rh, arg);
}


static int play_alloc(struct auplay_st **stp, const struct auplay *ap,
		      struct auplay_prm *prm, const char *device,
		      auplay_write_h *wh, void *arg)
{
	return wsaudio_play_alloc(stp, wsa, ap, prm, device, wh, arg);
}


static void wsaudio_destructor(void *arg)
{
	struct wsaudio *w = arg;

	if (w->core)
		wasess_unregister(w);
	mem_deref(w->ausrc);
	mem_deref(w->auplay);
	mem_deref(w->core);
}


/* wsaudio_queue_ms and wsaudio_format */
static int conf_read(struct wsaudio *w, const struct conf *conf)
{
	char name[16];
	struct pl pl;

	w->queue_ms = QUEUE_MS_DEFAULT;
	(void)conf_get_u32(conf, "wsaudio_queue_ms", &w->queue_ms);
	if (w->queue_ms < AUDIO_PTIME || w->queue_ms > QUEUE_MS_MAX) {
		warning("wsaudio: wsaudio_queue_ms must be %u to %u\n",
			AUDIO_PTIME, QUEUE_MS_MAX);
		return EINVAL;
	}

	w->format = WS_AUDIO_DEFAULT;
	if (conf_get_str(conf, "wsaudio_format", name, sizeof(name)))
		return 0;

	pl_set_str(&pl, name);
	if (ws_audio_decode(&w->format, &pl) || w->format == WS_AUDIO_NONE) {
		warning("wsaudio: wsaudio_format: '%s' is not pcmu or l16\n",
			name);
		return EINVAL;
	}

	return 0;
}


static int module_init(void)
{
	int err;

	wsa = mem_zalloc(sizeof(*wsa), wsaudio_destructor);
	if (!wsa) {
		err = ENOMEM;
		goto out;
	}

	err = conf_read(wsa, conf_cur());
	if (err)
		goto out;

	err = sp_core_open(&wsa->core);
	if (err)
		goto out;

	err = wasess_register(wsa);
	if (err)
		goto out;

	err  = ausrc_register(&wsa->ausrc, baresip_ausrcl(), "wsaudio",
			      src_alloc);
	err |= auplay_register(&wsa->auplay, baresip_auplayl(), "wsaudio",
			       play_alloc);

 out:
	if (err) {
		/* a phone whose calls have no audio is of no use: stop
		   rather than run without it, as httpctl does */
		errlog("wsaudio: cannot start (%m): exiting\n", err);
		wsa = mem_deref(wsa);
		exit(EXIT_FAILURE);
	}

	return 0;
}


static int module_close(void)
{
	wsa = mem_deref(wsa);

	return 0;
}


EXPORT_SYM const struct mod_export exports = {
	"wsaudio",
	"sound",
	module_init,
	module_close
};
