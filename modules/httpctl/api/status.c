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
	json_t *st;

	st = json_pack("{s:s, s:s, s:I, s:O, s:O, s:I}",
		       "version", SIPPHONE_VERSION,
		       "baresip", SIPPHONE_BARESIP_VERSION,
		       "uptime_ms",
		       (json_int_t)(sptime_now_ms() - ctl->core->start_ms),
		       "lines", json_object_get(lines, "lines"),
		       "calls", json_object_get(calls, "calls"),
		       "last_event_seq",
		       (json_int_t)evbus_last_seq(ctl->core->bus));

	json_decref(lines);
	json_decref(calls);

	if (!st) {
		api_error(req, 500, "internal_error", "out of memory");
		return;
	}

	api_reply(req, 200, st);
}


/** Add the /api/v1/status route */
int api_status_register(struct httpctl *ctl)
{
	return api_route(ctl->core->api, "GET", "/api/v1/status", 0,
			 get_status, ctl);
}
