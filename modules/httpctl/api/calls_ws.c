/**
 * @file calls_ws.c  WebSocket commands: answer, hangup, dial, dtmf
 *
 *   answer {"call"}            a ringing call from the phone
 *   hangup {"call"}            a ringing or answered call
 *   dial   {"line", "ring_timeout_s"}   as POST /api/v1/calls
 *   dtmf   {"call", "digits"}  an answered call
 *
 * "call" may be left out when exactly one call fits. The result is the
 * call object, as REST returns it.
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


static int cmd_answer(struct ws_session *s, const json_t *args,
		      json_t **resultp, struct sp_err *err, void *arg)
{
	struct pcall *pc;
	int e;
	(void)s;

	pc = callops_find(arg, json_object_get(args, "call"), CALLOPS_RINGING_IN, err);
	if (!pc)
		return ENOENT;

	e = callops_answer(pc, err);
	if (!e)
		*resultp = pcall_encode(pc);

	return e;
}


static int cmd_hangup(struct ws_session *s, const json_t *args,
		      json_t **resultp, struct sp_err *err, void *arg)
{
	struct pcall *pc;
	int e;
	(void)s;

	pc = callops_find(arg, json_object_get(args, "call"), CALLOPS_LIVE, err);
	if (!pc)
		return ENOENT;

	e = callops_hangup(pc, err);
	if (!e)
		*resultp = pcall_encode(pc);

	return e;
}


static int cmd_dial(struct ws_session *s, const json_t *args,
		    json_t **resultp, struct sp_err *err, void *arg)
{
	struct pcall *pc;
	int e;
	(void)s;

	e = callops_dial(arg, args, &pc, err);
	if (!e)
		*resultp = pcall_encode(pc);

	return e;
}


static int cmd_dtmf(struct ws_session *s, const json_t *args,
		    json_t **resultp, struct sp_err *err, void *arg)
{
	const json_t *digits = json_object_get(args, "digits");
	struct pcall *pc;
	int e;
	(void)s;

	pc = callops_find(arg, json_object_get(args, "call"), CALLOPS_ACTIVE, err);
	if (!pc)
		return ENOENT;

	e = callops_dtmf(pc, digits, err);
	if (!e)
		*resultp = json_pack("{s:s, s:O}", "call", pc->id,
				     "digits", digits);

	return e;
}


/* The line a session hears when it named none: the first registered */
static const char *default_line(void *arg)
{
	struct httpctl *ctl = arg;
	const struct line *line = lines_first_registered(ctl->lines);

	return line ? line->id : NULL;
}


/** Offer the call commands on the WebSocket */
int api_calls_ws_register(struct httpctl *ctl)
{
	struct wshub *hub = ctl->core->hub;
	int err = 0;

	err |= wshub_command(hub, "answer", cmd_answer, ctl);
	err |= wshub_command(hub, "hangup", cmd_hangup, ctl);
	err |= wshub_command(hub, "dial", cmd_dial, ctl);
	err |= wshub_command(hub, "dtmf", cmd_dtmf, ctl);
	if (err)
		return err;

	wshub_set_line_handler(hub, default_line, ctl);

	return 0;
}
