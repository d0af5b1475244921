/**
 * @file calls.c  REST: /api/v1/calls
 *
 *   GET    /api/v1/calls[?state=all]       active (and recent) calls
 *   GET    /api/v1/calls/{call}
 *   POST   /api/v1/calls  {"line":"100", "ring_timeout_s":60}
 *                                          ring the phone -> 201
 *   POST   /api/v1/calls/{call}/answer
 *   POST   /api/v1/calls/{call}/hangup     also DELETE /api/v1/calls/{call}
 *   POST   /api/v1/calls/{call}/dtmf {"digits":"12#"} -> 202
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


static int calls_append(json_t *arr, struct list *l)
{
	struct le *le;

	for (le = list_head(l); le; le = le->next) {
		if (json_array_append_new(arr, pcall_encode(le->data)))
			return ENOMEM;
	}

	return 0;
}


/** Build {"calls":[...]}: active calls, and the recent ended ones if all */
json_t *api_calls_list(struct calls *calls, bool all)
{
	json_t *arr = json_array();
	int err;

	if (!arr)
		return NULL;

	err = all ? calls_append(arr, calls_ended(calls)) : 0;
	err |= calls_append(arr, calls_active(calls));
	if (err) {
		json_decref(arr);
		return NULL;
	}

	return json_pack("{s:o}", "calls", arr);
}


static void get_calls(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	struct pl state;
	bool all = false;

	if (0 == api_query(req, "state", &state)) {
		if (0 == pl_strcmp(&state, "all"))
			all = true;
		else if (pl_strcmp(&state, "active")) {
			api_error(req, 400, "invalid_query",
				  "state must be 'active' or 'all'");
			return;
		}
	}

	api_reply(req, 200, api_calls_list(ctl->calls, all));
}


/* The call named in the path, or NULL after answering 404 */
static struct pcall *path_call(struct api_req *req, struct httpctl *ctl)
{
	const char *id = api_param(req, "call");
	struct pcall *pc = calls_find(ctl->calls, id);

	if (!pc)
		api_error(req, 404, "call_not_found", "no call %s", id);

	return pc;
}


static void get_call(struct api_req *req, void *arg)
{
	struct pcall *pc = path_call(req, arg);

	if (pc)
		api_reply(req, 200, pcall_encode(pc));
}


static void post_calls(struct api_req *req, void *arg)
{
	struct pcall *pc;
	struct sp_err e;

	if (callops_dial(arg, req->body, &pc, &e))
		api_fail(req, &e);
	else
		api_reply(req, 201, pcall_encode(pc));
}


static void post_answer(struct api_req *req, void *arg)
{
	struct pcall *pc = path_call(req, arg);
	struct sp_err e;

	if (!pc)
		return;

	if (callops_answer(pc, &e))
		api_fail(req, &e);
	else
		api_reply(req, 200, pcall_encode(pc));
}


static void post_hangup(struct api_req *req, void *arg)
{
	struct pcall *pc = path_call(req, arg);
	struct sp_err e;

	if (!pc)
		return;

	if (callops_hangup(pc, &e))
		api_fail(req, &e);
	else
		api_reply(req, 200, pcall_encode(pc));
}


static void post_dtmf(struct api_req *req, void *arg)
{
	struct pcall *pc = path_call(req, arg);
	json_t *digits = json_object_get(req->body, "digits");
	struct sp_err e;

	if (!pc)
		return;

	if (callops_dtmf(pc, digits, &e))
		api_fail(req, &e);
	else
		api_reply(req, 202, json_pack("{s:s, s:O}", "call", pc->id,
					      "digits", digits));
}


/** Add the /api/v1/calls routes */
int api_calls_register(struct httpctl *ctl)
{
	struct api *api = ctl->core->api;
	int err = 0;

	err |= api_route(api, "GET", "/api/v1/calls", 0, get_calls, ctl);
	err |= api_route(api, "POST", "/api/v1/calls", API_JSON,
			 post_calls, ctl);
	err |= api_route(api, "GET", "/api/v1/calls/{call}", 0,
			 get_call, ctl);
	err |= api_route(api, "DELETE", "/api/v1/calls/{call}", 0,
			 post_hangup, ctl);
	err |= api_route(api, "POST", "/api/v1/calls/{call}/answer",
			 API_JSON, post_answer, ctl);
	err |= api_route(api, "POST", "/api/v1/calls/{call}/hangup",
			 API_JSON, post_hangup, ctl);
	err |= api_route(api, "POST", "/api/v1/calls/{call}/dtmf",
			 API_JSON, post_dtmf, ctl);

	return err ? ENOMEM : 0;
}
