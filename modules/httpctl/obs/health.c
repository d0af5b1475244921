/**
 * @file health.c  GET /api/v1/health: what the service sees of itself,
 *                 and why it is degraded
 *
 * Four sections, each read from where its facts are kept:
 *
 *   sip        the line table: each line's registration, last REGISTER,
 *              expiry and source
 *   audio      each live call: RTP packets, loss, jitter, round trip and
 *              MOS (quality.c), and its audio to the WebSocket clients
 *              (wsaudio's counters, through the hub)
 *   websocket  the hub: clients, each one's queue and drops, totals since
 *              start, closes by code
 *   events     the bus (published, store errors) and the webhooks
 *              (deliveries by result, the backlog and its oldest event)
 *
 * "status" is "degraded" when any reason holds (each {code, message}):
 *
 *   no_line_registered   no line is registered: no call either way
 *   webhook_failing      an enabled endpoint's last attempt failed (one
 *                        reason per endpoint, until one succeeds)
 *   audio_loss           a live call loses more than httpctl_loss_degraded
 *                        percent of its packets, in either direction
 *   store_full           the event log cannot be written: the disk is
 *                        full; events wait in memory (some may be lost)
 *   store_error          the same for another reason (an I/O error)
 *
 * Threads: main thread only.
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


enum {
	LOSS_PCT_DEFAULT = 5,
	BACKLOG_MAX = 10000,   /* events read to count a backlog */
};


/**
 * Read the health and metrics settings
 *
 * httpctl_metrics: "token" (default): /metrics needs a token like the
 * API; "loopback": no token from 127.0.0.0/8 or ::1 (a token still works).
 * httpctl_loss_degraded: percent, 1 to 100 (default 5).
 *
 * @return 0 if success, EINVAL for a bad value
 */
int health_cfg_read(struct health_cfg *cfg, const struct conf *conf)
{
	char mode[16] = "token";
	uint32_t loss = LOSS_PCT_DEFAULT;

	if (!cfg)
		return EINVAL;

	(void)conf_get_str(conf, "httpctl_metrics", mode, sizeof(mode));
	if (0 == str_casecmp(mode, "token")) {
		cfg->metrics_loopback = false;
	}
	else if (0 == str_casecmp(mode, "loopback")) {
		cfg->metrics_loopback = true;
	}
	else {
		warning("httpctl: httpctl_metrics: '%s' is not token or"
			" loopback\n", mode);
		return EINVAL;
	}

	if (0 == conf_get_u32(conf, "httpctl_loss_degraded", &loss) &&
	    (loss < 1 || loss > 100)) {
		warning("httpctl: httpctl_loss_degraded: %u is not a percent"
			" from 1 to 100\n", loss);
		return EINVAL;
	}
	cfg->loss_pct = loss;

	return 0;
}


/** Is an endpoint failing: enabled, and its last attempt failed? */
bool health_webhook_failing(const struct webhook *wh)
{
	struct whdeliver_ep ep;

	if (!wh || !wh->enabled)
		return false;

	/* the head's attempts are stored: they tell after a restart too */
	whdeliver_ep(wh, &ep);

	return ep.fails > 0 || wh->head.attempts > 0;
}


static json_t *age(uint64_t now, uint64_t then)
{
	if (!then)
		return json_null();

	return json_integer((json_int_t)(now > then ? now - then : 0));
}


static json_t *webhook_health(const struct webhook *wh, size_t pending,
			      bool more, uint64_t oldest, uint64_t now)
{
	struct whdeliver_ep ep;

	whdeliver_ep(wh, &ep);

	return json_pack("{s:s, s:b, s:b, s:i, s:o, s:o, s:o, s:I, s:b,"
			 " s:o, s:I}",
			 "id", wh->id,
			 "enabled", wh->enabled,
			 "failing", health_webhook_failing(wh),
			 "failures", (int)ep.fails,
			 "last_error", jx_str(ep.error),
			 "last_ok_at", jx_time(ep.last_ok_ms),
			 "last_failure_at", jx_time(ep.last_fail_ms),
			 "pending", (json_int_t)pending,
			 "pending_more", more,
			 "oldest_pending_age_ms", age(now, oldest),
			 "dropped", (json_int_t)ep.dropped);
}


static int webhooks_scan(struct httpctl *ctl, struct health_webhooks *hw,
			 json_t *arr)
{
	uint64_t now = sptime_now_ms();
	struct le *le;
	int err = 0;

	memset(hw, 0, sizeof(*hw));

	for (le = list_head(webhooks_list(ctl->webhooks)); le;
	     le = le->next) {
		const struct webhook *wh = le->data;
		uint64_t oldest = 0;
		size_t n = 0;
		int e = 0;

		if (wh->enabled) {
			++hw->enabled;
			if (health_webhook_failing(wh))
				++hw->failing;

			e = whoutbox_backlog(wh, BACKLOG_MAX, &n, &oldest);
			if (e == EAGAIN)
				hw->pending_more = true;
			hw->pending += n;
			if (oldest && (!hw->oldest_ms ||
				       oldest < hw->oldest_ms))
				hw->oldest_ms = oldest;
		}
		else {
			++hw->disabled;
		}

		if (arr && json_array_append_new(arr, webhook_health(wh, n,
						 e == EAGAIN, oldest, now)))
			err = ENOMEM;
	}

	return err;
}


/** The webhook endpoints at a glance: states and the backlog */
void health_webhooks(struct httpctl *ctl, struct health_webhooks *hw)
{
	if (!ctl || !hw)
		return;

	(void)webhooks_scan(ctl, hw, NULL);
}


static int reason_add(json_t *arr, const char *code, json_t *extra,
		      const char *fmt, ...)
{
	json_t *r;
	char *msg = NULL;
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = re_vsdprintf(&msg, fmt, ap);
	va_end(ap);
	if (err) {
		json_decref(extra);
		return err;
	}

	r = json_pack("{s:s, s:s}", "code", code, "message", msg);
	mem_deref(msg);
	if (r && extra && json_object_update(r, extra)) {
		json_decref(r);
		r = NULL;
	}
	json_decref(extra);

	return json_array_append_new(arr, r) ? ENOMEM : 0;
}


/* The event log cannot be written: events wait in memory until it can */
static int store_reason(json_t *arr, const struct httpctl *ctl)
{
	struct evstore_status st;

	evstore_status(ctl->core->store, &st);
	if (!st.pending)
		return 0;

	return reason_add(arr, st.err == ENOSPC ? "store_full" : "store_error",
			  json_pack("{s:I, s:I, s:o}",
				    "pending", (json_int_t)st.pending,
				    "lost", (json_int_t)st.lost,
				    "since", jx_time(st.since_ms)),
			  "the event log cannot be written (%m): %zu events"
			  " wait in memory to be written, %llu lost since"
			  " start; events still reach WebSocket clients",
			  st.err, st.pending, (unsigned long long)st.lost);
}


static double worse_loss(const struct quality *q)
{
	return q->loss_pct > q->tx_loss_pct ? q->loss_pct : q->tx_loss_pct;
}


/**
 * Why the service is degraded now
 *
 * @param ctl  The module
 * @param hw   The webhooks at a glance (health_webhooks)
 *
 * @return new array of {code, message, ...}, empty when healthy; NULL
 *         if out of memory
 */
json_t *health_reasons(struct httpctl *ctl, const struct health_webhooks *hw)
{
	json_t *arr = json_array();
	struct le *le;
	int err = 0;

	if (!arr || !ctl || !hw) {
		json_decref(arr);
		return NULL;
	}

	if (!lines_registered_count(ctl->lines))
		err |= reason_add(arr, "no_line_registered", NULL,
				  "no line is registered: the phone can"
				  " neither call nor be called");

	for (le = list_head(webhooks_list(ctl->webhooks)); hw->failing && le;
	     le = le->next) {
		const struct webhook *wh = le->data;
		struct whdeliver_ep ep;

		if (!health_webhook_failing(wh))
			continue;

		whdeliver_ep(wh, &ep);
		err |= reason_add(arr, "webhook_failing",
				  json_pack("{s:s}", "webhook", wh->id),
				  "webhook %s: %u attempts failed since the"
				  " last success%s%s", wh->id,
				  max(ep.fails, wh->head.attempts),
				  ep.error ? "; last: " : "",
				  ep.error ? ep.error : "");
	}

	err |= store_reason(arr, ctl);

	for (le = list_head(calls_active(ctl->calls)); le; le = le->next) {
		const struct pcall *pc = le->data;
		struct quality q;

		if (pcall_quality(pc, &q) || !q.rtcp ||
		    worse_loss(&q) <= ctl->health.loss_pct)
			continue;

		err |= reason_add(arr, "audio_loss",
				  json_pack("{s:s, s:s}", "call", pc->id,
					    "line", pc->line),
				  "call %s on line %s loses %.1f %% of its"
				  " packets (more than %u %%)", pc->id,
				  pc->line, worse_loss(&q),
				  ctl->health.loss_pct);
	}

	if (err) {
		json_decref(arr);
		return NULL;
	}

	return arr;
}


static json_t *sip_encode(struct httpctl *ctl)
{
	json_t *lines = json_array();
	uint64_t last = 0;
	struct le *le;

	for (le = list_head(lines_list(ctl->lines)); le && lines;
	     le = le->next) {
		const struct line *l = le->data;

		last = max(last, l->last_register_at);
		if (json_array_append_new(lines,
					  calls_line_encode(ctl->calls, l))) {
			json_decref(lines);
			lines = NULL;
		}
	}

	return json_pack("{s:I, s:I, s:o, s:o}",
			 "lines_registered",
			 (json_int_t)lines_registered_count(ctl->lines),
			 "lines_known",
			 (json_int_t)list_count(lines_list(ctl->lines)),
			 "last_register_at", jx_time(last),
			 "lines", lines);
}


static json_t *call_ws_encode(const struct httpctl *ctl,
			      const struct pcall *pc)
{
	struct ws_call_stats st;

	if (wshub_call_stats(ctl->core->hub, pc->id, &st))
		return json_null();

	return json_pack("{s:i, s:I, s:I, s:i}",
			 "clients", (int)st.clients,
			 "frames", (json_int_t)st.frames,
			 "dropped", (json_int_t)st.dropped,
			 "queued_ms", (int)st.queued_ms);
}


static json_t *audio_encode(struct httpctl *ctl)
{
	json_t *calls = json_array();
	struct le *le;

	for (le = list_head(calls_active(ctl->calls)); le && calls;
	     le = le->next) {
		const struct pcall *pc = le->data;
		struct quality q;
		json_t *c;

		c = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}",
			      "call", pc->id,
			      "line", pc->line,
			      "direction", pcall_dir_name(pc->dir),
			      "state", pcall_state_name(pc->state),
			      "answered_at", jx_time(pc->answered_at),
			      "quality", pcall_quality(pc, &q) ? json_null()
							: quality_encode(&q),
			      "ws", call_ws_encode(ctl, pc));

		if (json_array_append_new(calls, c)) {
			json_decref(calls);
			calls = NULL;
		}
	}

	return json_pack("{s:i, s:o}",
			 "loss_degraded_pct", (int)ctl->health.loss_pct,
			 "calls", calls);
}


static json_t *session_encode(const struct ws_session *s)
{
	struct ws_session_stats st;
	struct ws_talk_stats tk;
	json_t *talk;

	ws_session_stats(s, &st);

	if (ws_session_talk_stats(s, &tk))
		talk = json_null();
	else
		talk = json_pack("{s:i, s:I, s:I}",
				 "queued_ms", (int)tk.queued_ms,
				 "dropped_ms", (json_int_t)tk.dropped_ms,
				 "underruns", (json_int_t)tk.underruns);

	return json_pack("{s:s, s:o, s:s, s:I, s:I, s:I, s:I, s:o}",
			 "session", ws_session_id(s),
			 "line", jx_str(ws_session_line(s)),
			 "audio", ws_audio_name(ws_session_audio(s)),
			 "queued_bytes", (json_int_t)st.queued_bytes,
			 "messages_sent", (json_int_t)st.sent,
			 "frames_sent", (json_int_t)st.frames,
			 "frames_dropped", (json_int_t)st.dropped,
			 "talk", talk);
}


static json_t *websocket_encode(struct httpctl *ctl)
{
	struct wshub *hub = ctl->core->hub;
	json_t *sessions = json_array(), *closes = json_array();
	struct wshub_stats st;
	struct le *le;
	size_t i;

	wshub_stats(hub, &st);

	for (le = list_head(wshub_sessions(hub)); le && sessions;
	     le = le->next) {
		if (json_array_append_new(sessions, session_encode(le->data))) {
			json_decref(sessions);
			sessions = NULL;
		}
	}

	for (i = 0; i < st.closec && closes; i++) {
		uint16_t code = st.closev[i].code;

		if (json_array_append_new(closes, json_pack("{s:i, s:s, s:I}",
				"code", (int)code,
				"reason", ws_close_name(code),
				"count", (json_int_t)st.closev[i].count))) {
			json_decref(closes);
			closes = NULL;
		}
	}

	return json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o,"
			 " s:o}",
			 "clients", (int)st.clients,
			 "queued_bytes", (json_int_t)st.queued_bytes,
			 "opened", (json_int_t)st.opened,
			 "messages_sent", (json_int_t)st.sent,
			 "frames_sent", (json_int_t)st.frames,
			 "frames_dropped", (json_int_t)st.dropped,
			 "talk_dropped_ms", (json_int_t)st.talk_dropped_ms,
			 "talk_underruns", (json_int_t)st.talk_underruns,
			 "closes", closes,
			 "sessions", sessions);
}


static json_t *events_encode(struct httpctl *ctl,
			     struct health_webhooks *hw)
{
	const struct evbus *bus = ctl->core->bus;
	struct whdeliver_stats ds;
	struct evstore_status ss;
	json_t *endpoints = json_array();
	char errbuf[64];

	if (endpoints && webhooks_scan(ctl, hw, endpoints)) {
		json_decref(endpoints);
		endpoints = NULL;
	}

	whdeliver_stats(ctl->whdeliver, &ds);
	evstore_status(ctl->core->store, &ss);

	return json_pack("{s:I, s:I, s:I, s:{s:b, s:o, s:o, s:I, s:I, s:I},"
			 " s:{s:I, s:I, s:I, s:I, s:b}, s:o,"
			 " s:{s:i, s:i, s:i, s:I, s:o}}",
			 "published", (json_int_t)evbus_published(bus),
			 "store_errors", (json_int_t)evbus_store_errors(bus),
			 "last_seq", (json_int_t)evbus_last_seq(bus),
			 "store",
			   "writing", ss.pending == 0,
			   "error", ss.pending ? json_string(str_error(ss.err,
						 errbuf, sizeof(errbuf)))
					       : json_null(),
			   "since", jx_time(ss.pending ? ss.since_ms : 0),
			   "pending", (json_int_t)ss.pending,
			   "written_late", (json_int_t)ss.written_late,
			   "lost", (json_int_t)ss.lost,
			 "deliveries",
			   "ok", (json_int_t)ds.ok,
			   "failed", (json_int_t)ds.failed,
			   "abandoned", (json_int_t)ds.abandoned,
			   "pending", (json_int_t)hw->pending,
			   "pending_more", hw->pending_more,
			 "oldest_pending_age_ms",
			   age(sptime_now_ms(), hw->oldest_ms),
			 "webhooks",
			   "enabled", (int)hw->enabled,
			   "disabled", (int)hw->disabled,
			   "failing", (int)hw->failing,
			   "dropped", (json_int_t)ds.dropped,
			   "endpoints", endpoints);
}


/**
 * The health object of GET /api/v1/health
 *
 * @param ctl  The module
 *
 * @return new JSON object, or NULL if out of memory
 */
json_t *health_encode(struct httpctl *ctl)
{
	struct health_webhooks hw;
	json_t *events, *reasons, *h;
	uint64_t now = sptime_now_ms();

	if (!ctl)
		return NULL;

	/* the webhooks are scanned once, for both events and reasons */
	events = events_encode(ctl, &hw);
	reasons = health_reasons(ctl, &hw);

	h = json_pack("{s:s, s:O, s:o, s:I, s:o, s:o, s:o, s:o}",
		      "status", json_array_size(reasons) ? "degraded" : "ok",
		      "reasons", reasons,
		      "checked_at", jx_time(now),
		      "uptime_ms", (json_int_t)(now - ctl->core->start_ms),
		      "sip", sip_encode(ctl),
		      "audio", audio_encode(ctl),
		      "websocket", websocket_encode(ctl),
		      "events", events);
	json_decref(reasons);

	return h;
}
