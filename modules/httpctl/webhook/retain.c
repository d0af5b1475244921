/**
 * @file retain.c  How long the event log keeps what an endpoint owes
 *
 * The event log trims what httpctl_events_keep and _max_age let go, but
 * never an event an enabled endpoint still owes: its cursor holds the
 * trim back. Without a bound an endpoint that fails forever would hold
 * it back forever, and events.db would grow until the disk is full. So
 * an endpoint may fall behind by so much and no more:
 *
 *   httpctl_webhook_give_up      seconds (default 259200, 3 days): an
 *                                owed event older than this is given up
 *   httpctl_webhook_backlog_max  events (default 100000): so is one this
 *                                many or more behind the newest event
 *
 * An event given up is not sent; it gets a delivery record "failed"
 * whose attempt says "dropped by retention", and the endpoint's cursor
 * moves past it (deliver.c does that). The log then holds at most
 * max(httpctl_events_keep, backlog_max) events, and none owed older
 * than give_up, whatever the endpoints do.
 *
 * Pure but for reading the config: the caller brings the time.
 */

#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	GIVE_UP_S = 3 * 86400,
	BACKLOG_MAX = 100000,
};


/**
 * Read httpctl_webhook_give_up and httpctl_webhook_backlog_max
 *
 * @param r     Returned bounds
 * @param conf  The config; NULL: the defaults
 *
 * @return 0 if success, EINVAL for a bad value (logged)
 */
int whretain_cfg_read(struct whretain *r, const struct conf *conf)
{
	uint32_t give_up = GIVE_UP_S, backlog = BACKLOG_MAX;

	if (!r)
		return EINVAL;

	if (0 == conf_get_u32(conf, "httpctl_webhook_give_up", &give_up) &&
	    !give_up) {
		warning("httpctl: httpctl_webhook_give_up must be a number of"
			" seconds, at least 1\n");
		return EINVAL;
	}

	if (0 == conf_get_u32(conf, "httpctl_webhook_backlog_max",
			      &backlog) && !backlog) {
		warning("httpctl: httpctl_webhook_backlog_max must be a number"
			" of events, at least 1\n");
		return EINVAL;
	}

	r->give_up_ms = (uint64_t)give_up * 1000;
	r->backlog_max = backlog;

	return 0;
}


/**
 * Is an owed event beyond what an endpoint may still owe?
 *
 * @param r         The bounds
 * @param seq       The event's seq
 * @param time_ms   When it was published, unix ms
 * @param last_seq  The newest event's seq
 * @param now_ms    Unix ms now
 *
 * @return true if it is to be given up
 */
bool whretain_beyond(const struct whretain *r, uint64_t seq,
		     uint64_t time_ms, uint64_t last_seq, uint64_t now_ms)
{
	if (!r)
		return false;

	if (last_seq >= seq && last_seq - seq >= r->backlog_max)
		return true;

	/* an event from the future (the clock went back) is young */
	return now_ms > time_ms && now_ms - time_ms > r->give_up_ms;
}


/** How often the engine looks for what to give up: often enough that
    nothing stays owed much past give_up, at most once a second */
uint64_t whretain_interval_ms(const struct whretain *r)
{
	enum { MIN_MS = 1000, MAX_MS = 60000 };

	if (!r)
		return MAX_MS;

	return max((uint64_t)MIN_MS, min(r->give_up_ms, (uint64_t)MAX_MS));
}
