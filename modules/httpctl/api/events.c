/**
 * @file events.c  REST: GET /api/v1/events?after=SEQ&limit=N
 *
 * The event log, oldest first, for polling and replay. next_after is the
 * seq to pass as "after" in the next poll. A limit above API_LIMIT_MAX is
 * served as API_LIMIT_MAX, like a page size.
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


static void get_events(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	uint64_t after = 0, last;
	size_t limit;
	struct mbuf *mb;
	int err;

	if (api_query_u64(req, "after", &after)) {
		api_error(req, 400, "invalid_query",
			  "after must be an event seq (0 or more)");
		return;
	}
	if (api_limit(req, &limit))
		return;

	mb = mbuf_alloc(4096);
	if (!mb) {
		api_error(req, 500, "internal_error", "out of memory");
		return;
	}

	/* the envelopes are stored as JSON text: splice, don't re-parse */
	err  = mbuf_write_str(mb, "{\"events\":[");
	err |= evbus_list(ctl->core->bus, after, limit, mb, &last);
	err |= mbuf_printf(mb, "],\"next_after\":%llu}",
			   (unsigned long long)last);
	if (err) {
		api_error(req, 500, "internal_error", "%m", err);
		goto out;
	}

	api_reply_text(req, 200, "application/json", "%b", mb->buf, mb->end);

 out:
	mem_deref(mb);
}


/** Add the /api/v1/events route */
int api_events_register(struct httpctl *ctl)
{
	return api_route(ctl->core->api, "GET", "/api/v1/events", 0,
			 get_events, ctl);
}
