/**
 * @file lines.c  REST: /api/v1/lines
 *
 *   GET /api/v1/lines          every line seen since start
 *   GET /api/v1/lines/{line}
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


/** Build {"lines":[...]} */
json_t *api_lines_list(struct httpctl *ctl)
{
	json_t *arr = json_array();
	struct le *le;

	if (!arr)
		return NULL;

	for (le = list_head(lines_list(ctl->lines)); le; le = le->next) {
		if (json_array_append_new(arr,
				calls_line_encode(ctl->calls, le->data))) {
			json_decref(arr);
			return NULL;
		}
	}

	return json_pack("{s:o}", "lines", arr);
}


static void get_lines(struct api_req *req, void *arg)
{
	api_reply(req, 200, api_lines_list(arg));
}


static void get_line(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	const char *id = api_param(req, "line");
	const struct line *line = lines_find(ctl->lines, id);

	if (!line) {
		api_error(req, 404, "line_not_found", "no line %s", id);
		return;
	}

	api_reply(req, 200, calls_line_encode(ctl->calls, line));
}


/** Add the /api/v1/lines routes */
int api_lines_register(struct httpctl *ctl)
{
	struct api *api = ctl->core->api;
	int err = 0;

	err |= api_route(api, "GET", "/api/v1/lines", 0, get_lines, ctl);
	err |= api_route(api, "GET", "/api/v1/lines/{line}", 0,
			 get_line, ctl);

	return err ? ENOMEM : 0;
}
