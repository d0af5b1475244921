/**
 * @file api_calls.c  REST: /api/v1/calls
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


/* Which line POST /calls means, or NULL after answering the error */
static const struct line *dial_line(struct api_req *req, struct httpctl *ctl)
{
	json_t *jline = json_object_get(req->body, "line");
	const struct line *line;
	size_t n;

	if (!jline || json_is_null(jline)) {
		n = lines_registered_count(ctl->lines);
		if (n == 0) {
			api_error(req, 503, "no_line_registered",
				  "no line is registered");
			return NULL;
		}
		if (n > 1) {
			api_error(req, 400, "line_required",
				  "%zu lines are registered: name one"
				  " in \"line\"", n);
			return NULL;
		}
		return lines_first_registered(ctl->lines);
	}

	if (!json_is_string(jline)) {
		api_error(req, 400, "invalid_field",
			  "\"line\" must be a string");
		return NULL;
	}

	line = lines_find(ctl->lines, json_string_value(jline));
	if (!line) {
		api_error(req, 404, "line_not_found", "no line %s",
			  json_string_value(jline));
		return NULL;
	}

	if (!line->registered) {
		api_error(req, 503, "line_not_registered",
			  "line %s is not registered", line->id);
		return NULL;
	}

	return line;
}


enum {
	RING_MAX_S = 600,
};


static void post_calls(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	json_t *jring = json_object_get(req->body, "ring_timeout_s");
	json_int_t ring_s = RING_TIMEOUT_S;
	const struct line *line;
	struct pcall *pc, *busy;
	int err;

	if (jring) {
		ring_s = json_is_integer(jring) ? json_integer_value(jring) : 0;
		if (ring_s < 1 || ring_s > RING_MAX_S) {
			api_error(req, 400, "invalid_field",
				  "\"ring_timeout_s\" must be 1 to %d seconds",
				  RING_MAX_S);
			return;
		}
	}

	line = dial_line(req, ctl);
	if (!line)
		return;

	busy = calls_find_line(ctl->calls, line->id);
	if (busy) {
		api_error(req, 409, "line_busy", "line %s is in call %s",
			  line->id, busy->id);
		return;
	}

	err = calls_dial(ctl->calls, line, (uint32_t)ring_s, &pc);
	if (err) {
		api_error(req, 502, "dial_failed",
			  "could not ring line %s: %m", line->id, err);
		return;
	}

	api_reply(req, 201, pcall_encode(pc));
}


static void post_answer(struct api_req *req, void *arg)
{
	struct pcall *pc = path_call(req, arg);
	int err;

	if (!pc)
		return;

	err = calls_answer(pc);
	if (err == EPROTO) {
		api_error(req, 409, "call_not_ringing",
			  "call %s is not a ringing call from the phone"
			  " (%s, %s)", pc->id, pcall_state_name(pc->state),
			  pc->dir == PCALL_FROM_PHONE ? "from_phone"
						      : "to_phone");
		return;
	}
	if (err) {
		api_error(req, 500, "answer_failed", "could not answer: %m",
			  err);
		return;
	}

	api_reply(req, 200, pcall_encode(pc));
}


static void post_hangup(struct api_req *req, void *arg)
{
	struct pcall *pc = path_call(req, arg);

	if (!pc)
		return;

	/* the pcall survives the hangup: it moves to the ended list */
	if (calls_hangup(pc) == EPROTO) {
		api_error(req, 409, "call_ended", "call %s already ended",
			  pc->id);
		return;
	}

	api_reply(req, 200, pcall_encode(pc));
}


static void post_dtmf(struct api_req *req, void *arg)
{
	struct pcall *pc = path_call(req, arg);
	const char *digits;
	int err;

	if (!pc)
		return;

	digits = json_string_value(json_object_get(req->body, "digits"));
	if (!dtmf_digits_valid(digits)) {
		api_error(req, 400, "invalid_field",
			  "\"digits\" must be 1 to 32 of 0-9 * # A-D");
		return;
	}

	err = calls_send_dtmf(pc, digits);
	if (err == EPROTO) {
		api_error(req, 409, "call_not_active",
			  "call %s is %s, not active", pc->id,
			  pcall_state_name(pc->state));
		return;
	}
	if (err == EOVERFLOW) {
		api_error(req, 429, "dtmf_queue_full",
			  "too many digits are still waiting to be sent");
		return;
	}
	if (err) {
		api_error(req, 500, "dtmf_failed", "%m", err);
		return;
	}

	api_reply(req, 202, json_pack("{s:s, s:s}", "call", pc->id,
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
