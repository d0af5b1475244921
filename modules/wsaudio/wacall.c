/**
 * @file wacall.c  Calls with audio: one object per call, shared by the
 *                 call's source and player
 *
 * httpctl names each call's audio device "<line>/<call id>" (calldev_print);
 * any other device (menu.so's "alert", the config's "none") belongs to no
 * call. The first of a call's source and player to start publishes
 * audio.started, the last to stop publishes audio.stopped.
 *
 * A call is heard by the clients of its line; it counts the frames the
 * player queued to them and those their queues dropped to make room,
 * and httpctl reads them (and the clients' queues to the phone) through
 * the hub: wacall_stats().
 */

#include "sipphone.h"
#include "wsaudio.h"


static void publish(const struct wacall *wc, const char *type)
{
	(void)evbus_publish(wc->wsa->core->bus, type,
			    json_pack("{s:s, s:s}", "call", wc->callid,
				      "line", wc->line));
}


static void wacall_destructor(void *arg)
{
	struct wacall *wc = arg;

	/* only a call that said it started says it stopped */
	if (wc->le.list) {
		list_unlink(&wc->le);
		publish(wc, "audio.stopped");
	}
	mem_deref(wc->line);
	mem_deref(wc->callid);
}


static struct wacall *call_find(const struct wsaudio *wsa,
				const struct pl *callid)
{
	struct le *le;

	for (le = list_head(&wsa->calll); le; le = le->next) {
		struct wacall *wc = le->data;

		if (0 == pl_strcmp(callid, wc->callid))
			return wc;
	}

	return NULL;
}


/**
 * The call a device belongs to
 *
 * @param wcp     Returned reference to the call, or NULL when the device
 *                is not a call's
 * @param wsa     The module
 * @param device  Audio device name
 *
 * @return 0 if success, otherwise errorcode
 */
int wacall_get(struct wacall **wcp, struct wsaudio *wsa, const char *device)
{
	struct pl line, callid;
	struct wacall *wc;
	int err;

	*wcp = NULL;

	if (calldev_parse(device, &line, &callid))
		return 0;

	wc = call_find(wsa, &callid);
	if (wc) {
		*wcp = mem_ref(wc);
		return 0;
	}

	wc = mem_zalloc(sizeof(*wc), wacall_destructor);
	if (!wc)
		return ENOMEM;

	wc->wsa = wsa;
	err  = pl_strdup(&wc->line, &line);
	err |= pl_strdup(&wc->callid, &callid);
	if (err) {
		mem_deref(wc);
		return ENOMEM;
	}

	list_append(&wsa->calll, &wc->le, wc);
	publish(wc, "audio.started");

	*wcp = wc;

	return 0;
}


/**
 * Does a client hear this call? It does if it listens to the call's line
 * (named, or by default the first registered) and wants audio.
 */
bool wacall_heard_by(const struct wacall *wc, const struct ws_session *s)
{
	return ws_session_audio(s) != WS_AUDIO_NONE &&
		0 == str_cmp(ws_session_line(s), wc->line);
}


/**
 * A call's audio to the clients, and their queues to the phone (a
 * wshub_call_stats_h)
 *
 * @param callid  API call id
 * @param st      Returned counters
 * @param arg     The module
 *
 * @return 0 if success, ENOENT if the call has no audio (yet, or now)
 */
int wacall_stats(const char *callid, struct ws_call_stats *st, void *arg)
{
	const struct wsaudio *wsa = arg;
	const struct wacall *wc;
	struct le *le;
	struct pl id;

	pl_set_str(&id, callid);
	wc = call_find(wsa, &id);
	if (!wc)
		return ENOENT;

	st->frames = wc->frames;
	st->dropped = wc->dropped;

	for (le = list_head(wshub_sessions(wsa->core->hub)); le;
	     le = le->next) {
		const struct ws_session *s = le->data;

		if (!wacall_heard_by(wc, s))
			continue;

		++st->clients;
		st->queued_ms = max(st->queued_ms,
				    talkq_queued_ms(wasess_talkq(s)));
	}

	return 0;
}
