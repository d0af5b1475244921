/**
 * @file wsaudio.c  sipphone's media plane: call audio as an audio source
 *                  and player named "wsaudio"
 *
 * Each call's audio device is named after its API call id (httpctl sets
 * it), so only a call's own source and player carry its audio; sounds
 * played on other devices (menu.so's ring tones on "alert") go nowhere.
 *
 \verbatim
  module            wsaudio.so
  audio_source      wsaudio,none
  audio_player      wsaudio,none
  audio_alert       wsaudio,alert
 \endverbatim
 *
 * This version paces both directions in real time: the source sends
 * silence and the player consumes what the phone says. The WebSocket
 * bridge is built on these two clocks.
 */

#include "sipphone.h"
#include "wsaudio.h"


static struct ausrc *ausrc;
static struct auplay *auplay;


static int module_init(void)
{
	int err;

	err  = ausrc_register(&ausrc, baresip_ausrcl(), "wsaudio",
			      wsaudio_src_alloc);
	err |= auplay_register(&auplay, baresip_auplayl(), "wsaudio",
			       wsaudio_play_alloc);

	return err;
}


static int module_close(void)
{
	ausrc = mem_deref(ausrc);
	auplay = mem_deref(auplay);

	return 0;
}


EXPORT_SYM const struct mod_export exports = {
	"wsaudio",
	"sound",
	module_init,
	module_close
};
