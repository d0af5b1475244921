/**
 * @file web_limit.c  What clients may make the server do: for now, how
 *                    often they make it log
 *
 * What a client can make us log is rate-limited (web_ratelog_due()).
 *
 * Threads: main thread only.
 */

#include "sipphone.h"
#include "webpriv.h"


enum {
	LOG_EVERY_MS = 10000,       /* a client's doing logged this often  */
};


/**
 * May a line about what clients do be logged now?
 *
 * @param rl     The line's state
 * @param heldp  Returned: how many were held back since the last line
 *
 * @return true at most once every LOG_EVERY_MS
 */
bool web_ratelog_due(struct web_ratelog *rl, uint32_t *heldp)
{
	uint64_t now = tmr_jiffies();

	if (rl->last && now - rl->last < LOG_EVERY_MS) {
		++rl->held;
		return false;
	}

	*heldp = rl->held;
	rl->held = 0;
	rl->last = now;

	return true;
}
