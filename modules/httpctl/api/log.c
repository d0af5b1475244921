/**
 * @file log.c  REST: the log level
 *
 *   GET  /api/v1/log                     {"level":"info"}
 *   POST /api/v1/log {"level":"debug"}   set it (obs/loglevel.c)
 *
 * Threads: main thread only.
 */

#include "sipphone.h"
#include "httpctl.h"
#include "api/api.h"


static void get_log(struct api_req *req, void *arg)
{
	(void)arg;

	api_reply(req, 200, json_pack("{s:s}", "level", loglevel_name()));
}


static void post_log(struct api_req *req, void *arg)
{
	const char *level = json_string_value(json_object_get(req->body,
							      "level"));
	(void)arg;

	if (!level || loglevel_set(level)) {
		api_error(req, 400, "invalid_field", "\"level\" must be debug,"
			  " info, warning or error");
		return;
	}

	api_reply(req, 200, json_pack("{s:s}", "level", loglevel_name()));
}


/** Add GET and POST /api/v1/log */
int api_log_register(struct httpctl *ctl)
{
	struct api *api = ctl->core->api;
	int err = 0;

	err |= api_route(api, "GET", "/api/v1/log", 0, get_log, ctl);
	err |= api_route(api, "POST", "/api/v1/log", API_JSON, post_log, ctl);

	return err;
}
