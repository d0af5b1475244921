/**
 * @file info.c  What a SIP INFO from the phone carries: a DTMF digit, a
 *               hook flash, or nothing we know
 *
 * An HT802 sends a digit as application/dtmf-relay ("Signal=5"), and a
 * hook flash as "Signal=16" (which baresip reads as the digit '1'),
 * "Signal=hf", or an application/hook-flash body. Pure: the message is
 * only read.
 */

#include <ctype.h>
#include "sipphone.h"
#include "sip/sip.h"


/**
 * Read an INFO request's body
 *
 * @param info  Returned signal
 * @param msg   The INFO
 *
 * @return what it carries (INFO_NONE for a body we do not know)
 */
enum info_kind info_decode(struct info_signal *info,
			   const struct sip_msg *msg)
{
	struct pl body, sig;

	memset(info, 0, sizeof(*info));

	if (msg_ctype_cmp(&msg->ctyp, "application", "hook-flash"))
		return info->kind = INFO_FLASH;

	if (!msg_ctype_cmp(&msg->ctyp, "application", "dtmf-relay"))
		return INFO_NONE;

	pl_set_mbuf(&body, msg->mb);
	if (re_regex(body.p, body.l, "Signal=[ ]*[0-9a-z*#]+", NULL, &sig))
		return INFO_NONE;

	if (0 == pl_strcmp(&sig, "16")) {
		info->sig16 = true;
		return info->kind = INFO_FLASH;
	}

	if (0 == pl_strcasecmp(&sig, "hf"))
		return info->kind = INFO_FLASH;

	info->digit = (char)toupper((unsigned char)sig.p[0]);

	return info->kind = INFO_DIGIT;
}
