/**
 * @file callops.c  Call operations shared by REST and the WebSocket commands
 *
 * Each operation checks its arguments (callargs.c) and the call's state
 * and reports a refusal as an API error (status, code, message), so both
 * front ends say the same thing for the same mistake.
 *
 * Threads: main thread only.
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


/* Which line a dial means (jline: a string, or absent or null), or NULL
   with err set */
static const struct line *dial_line(struct httpctl *ctl, const json_t *jline,
				    struct sp_err *err)
{
	const struct line *line;
	size_t n;

	if (!jline || json_is_null(jline)) {
		n = lines_registered_count(ctl->lines);
		if (n == 0) {
			sp_err_set(err, 503, "no_line_registered",
				   "no line is registered");
			return NULL;
		}
		if (n > 1) {
			sp_err_set(err, 400, "line_required",
				   "%zu lines are registered: name one"
				   " in \"line\"", n);
			return NULL;
		}
		return lines_first_registered(ctl->lines);
	}

	line = lines_find(ctl->lines, json_string_value(jline));
	if (!line) {
		sp_err_set(err, 404, "line_not_found", "no line %s",
			   json_string_value(jline));
		return NULL;
	}

	if (!line->registered) {
		sp_err_set(err, 503, "line_not_registered",
			   "line %s is not registered", line->id);
		return NULL;
	}

	return line;
}


/**
 * Ring the phone: {"line":"100", "ring_timeout_s":60}, both optional
 *
 * @param ctl   The module
 * @param args  Arguments object
 * @param pcp   Returned call, ringing
 * @param err   Why not
 *
 * @return 0 if success, otherwise errorcode (err says why)
 */
int callops_dial(struct httpctl *ctl, const json_t *args, struct pcall **pcp,
	     struct sp_err *err)
{
	const struct line *line;
	const struct pcall *busy;
	struct caller caller;
	uint32_t ring_s;
	int e;

	e = callargs_dial(args, &ctl->caller, &ring_s, &caller, err);
	if (e)
		return e;

	line = dial_line(ctl, json_object_get(args, "line"), err);
	if (!line)
		return EINVAL;

	busy = calls_find_line(ctl->calls, line->id);
	if (busy)
		return sp_err_set(err, 409, "line_busy",
				  "line %s is in call %s", line->id, busy->id);

	e = calls_dial(ctl->calls, line, &caller, ring_s, pcp);
	if (e) {
		sp_err_set(err, 502, "dial_failed",
			   "could not ring line %s: %m", line->id, e);
		return e;
	}

	return 0;
}


static bool fits(const struct pcall *pc, enum callops_pick pick)
{
	switch (pick) {

	case CALLOPS_RINGING_IN:
		return pc->dir == PCALL_FROM_PHONE &&
			pc->state == PCALL_RINGING;
	case CALLOPS_ACTIVE:
		return pc->state == PCALL_ACTIVE;
	default:
		return pc->state != PCALL_ENDED;
	}
}


/**
 * The call an operation is about: the one named, or else the only one
 * that fits
 *
 * @param ctl   The module
 * @param jid   Call id (JSON string), or NULL/null to pick
 * @param pick  What fits when picking
 * @param err   Why none
 *
 * @return the call, or NULL (err set)
 */
struct pcall *callops_find(struct httpctl *ctl, const json_t *jid,
		       enum callops_pick pick, struct sp_err *err)
{
	struct pcall *pc, *found = NULL;
	size_t n = 0;
	struct le *le;

	if (callargs_call(jid, err))
		return NULL;

	if (jid && !json_is_null(jid)) {
		pc = calls_find(ctl->calls, json_string_value(jid));
		if (!pc)
			sp_err_set(err, 404, "call_not_found", "no call %s",
				   json_string_value(jid));
		return pc;
	}

	for (le = list_head(calls_active(ctl->calls)); le; le = le->next) {
		if (fits(le->data, pick)) {
			found = le->data;
			++n;
		}
	}

	if (n == 1)
		return found;

	sp_err_set(err, n ? 400 : 404, n ? "call_required" : "call_not_found",
		   n ? "%zu calls fit: name one in \"call\""
		     : "no call fits: name one in \"call\"", n);

	return NULL;
}


/** Answer a ringing call from the phone */
int callops_answer(struct pcall *pc, struct sp_err *err)
{
	int e = calls_answer(pc);

	if (e == EPROTO)
		return sp_err_set(err, 409, "call_not_ringing",
				  "call %s is not a ringing call from the"
				  " phone (%s, %s)", pc->id,
				  pcall_state_name(pc->state),
				  pc->dir == PCALL_FROM_PHONE ? "from_phone"
							      : "to_phone");
	if (e)
		sp_err_set(err, 500, "answer_failed", "could not answer: %m",
			   e);

	return e;
}


/** End a call, ringing or active */
int callops_hangup(struct pcall *pc, struct sp_err *err)
{
	/* the pcall survives the hangup: it moves to the ended list */
	if (calls_hangup(pc) == EPROTO)
		return sp_err_set(err, 409, "call_ended",
				  "call %s already ended", pc->id);

	return 0;
}


/** Send DTMF digits (a JSON string) to the phone in an active call */
int callops_dtmf(struct pcall *pc, const json_t *jdigits, struct sp_err *err)
{
	int e;

	e = callargs_digits(jdigits, err);
	if (e)
		return e;

	e = calls_send_dtmf(pc, json_string_value(jdigits));
	if (e == EPROTO)
		return sp_err_set(err, 409, "call_not_active",
				  "call %s is %s, not active", pc->id,
				  pcall_state_name(pc->state));
	if (e == EOVERFLOW)
		return sp_err_set(err, 429, "dtmf_queue_full",
				  "too many digits are still waiting to be"
				  " sent");
	if (e)
		sp_err_set(err, 500, "dtmf_failed", "%m", e);

	return e;
}
