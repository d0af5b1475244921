/**
 * @file audio.c  The audio contract: a call's device name, the WebSocket
 *                audio formats
 */

#include "sipphone.h"


/* The API's call ids, "call_" and lowercase hex (randid_alloc) */
static const char callid_prefix[] = "call_";

static const char *const fmt_names[] = {
	[WS_AUDIO_NONE] = "none",
	[WS_AUDIO_PCMU] = "pcmu",
	[WS_AUDIO_L16]  = "l16",
};


static bool callid_valid(const struct pl *id)
{
	const size_t n = sizeof(callid_prefix) - 1;
	size_t i;

	if (id->l <= n || memcmp(id->p, callid_prefix, n))
		return false;

	for (i = n; i < id->l; i++) {
		const char c = id->p[i];

		if (!(('0' <= c && c <= '9') || ('a' <= c && c <= 'f')))
			return false;
	}

	return true;
}


/**
 * Name a call's audio device
 *
 * @param devp    Returned name, "<line>/<call id>" (free with mem_deref)
 * @param line    Line id, not empty
 * @param callid  API call id, "call_<hex>"
 *
 * @return 0 if success, EINVAL for what calldev_parse() would refuse,
 *         otherwise errorcode
 */
int calldev_print(char **devp, const char *line, const char *callid)
{
	struct pl id;

	if (!devp || !str_isset(line) || !callid)
		return EINVAL;

	pl_set_str(&id, callid);
	if (!callid_valid(&id))
		return EINVAL;

	return re_sdprintf(devp, "%s/%s", line, callid);
}


/**
 * Read a call's audio device name
 *
 * The call id comes after the last slash: it has none, so a line id may.
 *
 * @param dev     Device name
 * @param line    Returned line id (points into dev)
 * @param callid  Returned call id (points into dev)
 *
 * @return 0 if dev names a call's audio, EBADMSG if it does not (e.g.
 *         "alert", "none"), EINVAL for bad arguments
 */
int calldev_parse(const char *dev, struct pl *line, struct pl *callid)
{
	const char *slash;
	struct pl id;

	if (!dev || !line || !callid)
		return EINVAL;

	slash = strrchr(dev, '/');
	if (!slash || slash == dev)
		return EBADMSG;

	pl_set_str(&id, slash + 1);
	if (!callid_valid(&id))
		return EBADMSG;

	line->p = dev;
	line->l = (size_t)(slash - dev);
	*callid = id;

	return 0;
}


/** "pcmu", "l16" or "none" */
const char *ws_audio_name(enum ws_audio fmt)
{
	if ((size_t)fmt >= ARRAY_SIZE(fmt_names))
		return fmt_names[WS_AUDIO_NONE];

	return fmt_names[fmt];
}


/**
 * Read a WebSocket audio format by its name, in any case
 *
 * @param fmtp  Returned format
 * @param name  "pcmu", "l16" or "none"
 *
 * @return 0 if success, EINVAL if it names no format
 */
int ws_audio_decode(enum ws_audio *fmtp, const struct pl *name)
{
	size_t i;

	if (!fmtp || !name)
		return EINVAL;

	for (i = 0; i < ARRAY_SIZE(fmt_names); i++) {
		if (0 == pl_strcasecmp(name, fmt_names[i])) {
			*fmtp = (enum ws_audio)i;
			return 0;
		}
	}

	return EINVAL;
}
