/**
 * @file randid.c  Random identifiers: "evt_…", "call_…", "ws_…", "wh_…"
 */

#include <sys/random.h>
#include "sipphone.h"


enum {
	RANDID_MAX = 16,       /* random bytes at most */
};


/**
 * Make an identifier: a prefix and random bytes in hex
 *
 * @param idp     Returned identifier (free with mem_deref)
 * @param prefix  Its prefix, e.g. "evt_"
 * @param bytes   How many random bytes (hex digits: twice that)
 *
 * @return 0 if success, otherwise errorcode
 */
int randid_alloc(char **idp, const char *prefix, size_t bytes)
{
	uint8_t rnd[RANDID_MAX];

	if (!idp || !prefix || !bytes || bytes > sizeof(rnd))
		return EINVAL;

	if (getrandom(rnd, bytes, 0) != (ssize_t)bytes)
		return EIO;

	return re_sdprintf(idp, "%s%w", prefix, rnd, bytes);
}
