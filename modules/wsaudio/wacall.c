/**
 * @file wacall.c  Calls with audio: one object per call, shared by the
 *                 call's source and player
 *
 * httpctl names each call's audio device "<line>/<call id>" (calldev_print);
 * any other device (menu.so's "alert", the config's "none") belongs to no
 * call.
 * The first of a call's source and player to start publishes
 * audio.started, the last to stop publishes audio.stopped.
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
	struct le *le;
	int err;

	*wcp = NULL;

	if (calldev_parse(device, &line, &callid))
		return 0;

	for (le = list_head(&wsa->calll); le; le = le->next) {
		wc = le->data;
		if (0 == pl_strcmp(&callid, wc->callid)) {
			*wcp = mem_ref(wc);
			return 0;
		}
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
