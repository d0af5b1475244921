/**
 * @file status.c  REST: GET /api/v1/status
 *
 * One look at everything: version, uptime, lines and active calls.
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


static void get_status(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	json_t *lines = api_lines_list(ctl);
	json_t *calls = api_calls_list(ctl->calls, false);

	/* a fixed shape around the two lists: printed, not built (the
	   object and its serialisation were half of a request's CPU) */
	if (!lines || !calls)
		api_error(req, 500, "internal_error", "out of memory");
	else
		api_reply_text(req, 200, "application/json",
			       "{\"version\":\"%s\",\"baresip\":\"%s\","
			       "\"uptime_ms\":%lld,\"lines\":%H,\"calls\":%H,"
			       "\"last_event_seq\":%lld}",
			       SIPPHONE_VERSION, SIPPHONE_BARESIP_VERSION,
			       (long long)(sptime_now_ms() -
					   ctl->core->start_ms),
			       jx_print, json_object_get(lines, "lines"),
			       jx_print, json_object_get(calls, "calls"),
			       (long long)evbus_last_seq(ctl->core->bus));

	json_decref(lines);
	json_decref(calls);
}


/** Add the /api/v1/status route */
int api_status_register(struct httpctl *ctl)
{
	return api_route(ctl->core->api, "GET", "/api/v1/status", 0,
			 get_status, ctl);
}
