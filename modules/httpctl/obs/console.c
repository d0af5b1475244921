/**
 * @file console.c  baresip console commands for debugging
 *
 *   /lines         the lines, registered or not
 *   /calls         active and recent calls
 *   /ring [line]   ring the phone (as POST /api/v1/calls)
 *   /events [n]    the last n events (default 10)
 *   /loglevel [l]  show or set the log level (debug, info, warning, error)
 *   /webhooks      webhook endpoints: state, cursor, queue, head
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


/*
 * baresip's command handlers get no argument of ours: this is the way
 * back to the module.
 */
static struct httpctl *console_ctl;


static int cmd_lines(struct re_printf *pf, void *arg)
{
	struct le *le;
	int err = 0;
	(void)arg;

	le = list_head(lines_list(console_ctl->lines));
	if (!le)
		return re_hprintf(pf, "no line has registered yet\n");

	for (; le; le = le->next) {
		const struct line *l = le->data;
		const char *callid;
		enum line_state st;

		st = calls_line_state(console_ctl->calls, l->id, &callid);

		err |= re_hprintf(pf, "%-6s %-12s %-8s %s  from %J  %us left"
				  "  %s%s\n",
				  l->id,
				  l->registered ? "registered" : "offline",
				  line_state_name(st),
				  l->contact ? l->contact : "-", &l->src,
				  line_expires_left(l),
				  l->user_agent ? l->user_agent : "",
				  callid ? callid : "");
	}

	return err;
}


static int calls_print(struct re_printf *pf, struct list *l)
{
	struct le *le;
	int err = 0;

	for (le = list_head(l); le; le = le->next) {
		const struct pcall *pc = le->data;

		err |= re_hprintf(pf, "%s  line %-6s %-10s %-8s dialed %-8s"
				  " %s\n", pc->id, pc->line,
				  pc->dir == PCALL_FROM_PHONE ? "from_phone"
							      : "to_phone",
				  pcall_state_name(pc->state),
				  pc->dialed ? pc->dialed : "-",
				  pc->end_reason ? pc->end_reason : "");
	}

	return err;
}


static int cmd_calls(struct re_printf *pf, void *arg)
{
	struct calls *calls = console_ctl->calls;
	int err;
	(void)arg;

	if (list_isempty(calls_active(calls)) &&
	    list_isempty(calls_ended(calls)))
		return re_hprintf(pf, "no calls yet\n");

	err  = calls_print(pf, calls_ended(calls));
	err |= calls_print(pf, calls_active(calls));

	return err;
}


static int cmd_ring(struct re_printf *pf, void *arg)
{
	const struct cmd_arg *carg = arg;
	struct pcall *pc;
	struct sp_err e;
	json_t *args;
	int err;

	args = str_isset(carg->prm) ? json_pack("{s:s}", "line", carg->prm)
				    : json_object();
	if (!args)
		return ENOMEM;

	/* the same checks and words as POST /api/v1/calls */
	err = callops_dial(console_ctl, args, &pc, &e);
	json_decref(args);
	if (err)
		return re_hprintf(pf, "cannot ring: %s\n", e.msg);

	return re_hprintf(pf, "ringing line %s: %s\n", pc->line, pc->id);
}


static int cmd_events(struct re_printf *pf, void *arg)
{
	const struct cmd_arg *carg = arg;
	struct evbus *bus = console_ctl->core->bus;
	uint64_t n = 10, last = evbus_last_seq(bus), after;
	struct mbuf *mb;
	int err;

	if (str_isset(carg->prm))
		n = strtoull(carg->prm, NULL, 10);
	after = last > n ? last - n : 0;

	mb = mbuf_alloc(1024);
	if (!mb)
		return ENOMEM;

	err = evbus_list(bus, after, (size_t)n, mb, NULL);
	if (!err)
		err = re_hprintf(pf, "[%b]\n", mb->buf, mb->end);

	mem_deref(mb);

	return err;
}


/* An endpoint's origin only: the path or query may hold a token */
static int origin_print(struct re_printf *pf, const struct webhook *wh)
{
	struct webhook_url u;

	if (webhook_url_decode(&u, wh->url, NULL))
		return re_hprintf(pf, "(bad URL)");

	return re_hprintf(pf, "%s://%r", u.tls ? "https" : "http",
			  &u.hostport);
}


static int head_print(struct re_printf *pf, const struct webhook *wh)
{
	char next[SPTIME_STRLEN] = "now";

	if (!wh->head.seq)
		return re_hprintf(pf, "head -");

	if (wh->head.next_ms > sptime_now_ms())
		(void)sptime_fmt(next, sizeof(next), wh->head.next_ms);

	return re_hprintf(pf, "head seq %llu, %u of %u attempts made,"
			  " next %s", (unsigned long long)wh->head.seq,
			  wh->head.attempts, WHRETRY_ATTEMPTS, next);
}


static int cmd_webhooks(struct re_printf *pf, void *arg)
{
	struct le *le;
	int err = 0;
	(void)arg;

	le = list_head(webhooks_list(console_ctl->webhooks));
	if (!le)
		return re_hprintf(pf, "no webhooks\n");

	for (; le; le = le->next) {
		const struct webhook *wh = le->data;
		size_t pending = 0;
		int e;

		/* the queue is counted by reading the log: bounded */
		e = whoutbox_backlog(wh, 10000, &pending, NULL);

		err |= re_hprintf(pf, "%s  %s  %H  cursor %llu  pending"
				  " %zu%s  %H%s\n", wh->id,
				  wh->enabled ? "enabled" : "disabled",
				  origin_print, wh,
				  (unsigned long long)wh->cursor, pending,
				  e == EAGAIN ? "+" : e ? "?" : "",
				  head_print, wh,
				  whdeliver_in_flight(wh) ? "  in flight"
							  : "");
		if (!wh->enabled)
			err |= re_hprintf(pf, "    disabled: %s\n",
					  wh->disabled_reason ?
					  wh->disabled_reason : "?");
	}

	return err;
}


static int cmd_loglevel(struct re_printf *pf, void *arg)
{
	const struct cmd_arg *carg = arg;

	if (str_isset(carg->prm) && loglevel_set(carg->prm))
		return re_hprintf(pf, "usage: /loglevel [debug|info|warning"
				  "|error]\n");

	return re_hprintf(pf, "log level: %s\n", loglevel_name());
}


static const struct cmd cmdv[] = {
	{"lines",  0, 0,       "sipphone: list lines",         cmd_lines  },
	{"calls",  0, 0,       "sipphone: list calls",         cmd_calls  },
	{"ring",   0, CMD_PRM, "sipphone: ring a line",        cmd_ring   },
	{"events", 0, CMD_PRM, "sipphone: last events [n]",    cmd_events },
	{"loglevel", 0, CMD_PRM, "sipphone: show/set log level", cmd_loglevel},
	{"webhooks", 0, 0,     "sipphone: webhook endpoints",  cmd_webhooks },
};


/** Register the console commands */
int console_register(struct httpctl *ctl)
{
	console_ctl = ctl;

	return cmd_register(baresip_commands(), cmdv, ARRAY_SIZE(cmdv));
}


/** Remove the console commands */
void console_unregister(void)
{
	cmd_unregister(baresip_commands(), cmdv);
	console_ctl = NULL;
}
