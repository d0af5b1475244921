/**
 * @file metrics.c  GET /metrics: the Prometheus text format, 0.0.4
 *
 * Every family has its # HELP and # TYPE lines, then its samples, in one
 * block. Counters end in _total and count from the start of the process
 * (a restart sets them back to 0, as Prometheus expects); units are in
 * the names (_seconds, _bytes, _ratio); label values are escaped
 * (metrics_label.c).
 * Families whose samples depend on the moment (a line, a live call)
 * may have no sample.
 *
 * The figures are read where they are kept, as health.c reads them: the
 * line table, the call table (with the live calls' RTP), the hub (with
 * wsaudio's counters), the bus and the webhook engine.
 *
 * Threads: main thread only.
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


static int family(struct re_printf *pf, const char *name, const char *type,
		  const char *help)
{
	return re_hprintf(pf, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			  name, type);
}


static int one(struct re_printf *pf, const char *name, const char *type,
	       const char *help, uint64_t v)
{
	return family(pf, name, type, help) |
		re_hprintf(pf, "%s %llu\n", name, (unsigned long long)v);
}


static int one_real(struct re_printf *pf, const char *name,
		    const char *type, const char *help, double v)
{
	return family(pf, name, type, help) |
		re_hprintf(pf, "%s %.3f\n", name, v);
}


/* A sample with one label */
static int sample1(struct re_printf *pf, const char *name, const char *l,
		   const char *lv, uint64_t v)
{
	return re_hprintf(pf, "%s{%s=\"%H\"} %llu\n", name, l,
			  metrics_label_print, lv, (unsigned long long)v);
}


static int process_print(struct re_printf *pf, const struct httpctl *ctl)
{
	uint64_t now = sptime_now_ms(), start = ctl->core->start_ms;
	int err;

	err  = family(pf, "sipphone_build_info", "gauge",
		      "Versions of sipphone and of the baresip it runs on");
	err |= re_hprintf(pf, "sipphone_build_info{version=\"%H\","
			  "baresip=\"%H\"} 1\n", metrics_label_print,
			  SIPPHONE_VERSION, metrics_label_print,
			  SIPPHONE_BARESIP_VERSION);
	err |= one_real(pf, "sipphone_start_time_seconds", "gauge",
			"Start of the service, seconds since the epoch",
			start / 1000.0);
	err |= one_real(pf, "sipphone_uptime_seconds", "gauge",
			"Seconds since the service started",
			(now - start) / 1000.0);

	return err;
}


static int sip_print(struct re_printf *pf, struct httpctl *ctl)
{
	struct list *lines = lines_list(ctl->lines);
	struct le *le;
	int err;

	err  = one(pf, "sipphone_lines_registered", "gauge",
		   "Lines (HT802 ports) registered now",
		   lines_registered_count(ctl->lines));
	err |= one(pf, "sipphone_lines_known", "gauge",
		   "Lines known (httpctl_lines_max at most), registered or not",
		   list_count(lines));
	err |= one(pf, "sipphone_lines_takeovers_refused_total", "counter",
		   "REGISTERs refused: the line is registered from another"
		   " address", lines_refused_count(ctl->lines));
	err |= one(pf, "sipphone_lines_full_total", "counter",
		   "REGISTERs for a new line refused: httpctl_lines_max"
		   " lines registered", lines_full_count(ctl->lines));
	err |= one(pf, "sipphone_sip_dialogs_traced", "gauge",
		   "SIP dialogs whose INFO requests are followed (live calls)",
		   calls_trace_dialogs(ctl->calls));

	err |= family(pf, "sipphone_line_registered", "gauge",
		      "1 if the line is registered now, else 0");
	LIST_FOREACH(lines, le) {
		const struct line *l = le->data;

		err |= sample1(pf, "sipphone_line_registered", "line", l->id,
			       l->registered);
	}

	err |= family(pf, "sipphone_line_expiry_seconds", "gauge",
		      "Seconds until the line's registration runs out");
	LIST_FOREACH(lines, le) {
		const struct line *l = le->data;

		err |= sample1(pf, "sipphone_line_expiry_seconds", "line",
			       l->id, line_expires_left(l));
	}

	err |= family(pf, "sipphone_line_last_register_timestamp_seconds",
		      "gauge", "When the line's last REGISTER came, seconds"
		      " since the epoch");
	LIST_FOREACH(lines, le) {
		const struct line *l = le->data;

		err |= re_hprintf(pf, "sipphone_line_last_register_timestamp"
				  "_seconds{line=\"%H\"} %.3f\n",
				  metrics_label_print, l->id,
				  l->last_register_at / 1000.0);
	}

	return err;
}


/* What reached the SIP port and what the gate and digest auth made of it */
static int gate_print(struct re_printf *pf, struct httpctl *ctl)
{
	struct sipauth_stats as;
	struct gate_stats gs;
	int err;

	gate_stats(ctl->gate, &gs);
	sipauth_stats(ctl->sipauth, &as);

	err  = one(pf, "sipphone_sip_received_total", "counter",
		   "SIP datagrams that reached the SIP UDP sockets",
		   gs.received);
	err |= family(pf, "sipphone_sip_dropped_total", "counter",
		      "SIP datagrams dropped before the SIP stack, by reason"
		      " (rate_limit: over httpctl_sip_rate; not_sip; via_maddr:"
		      " a request whose answer would go to a Via's maddr)");
	err |= sample1(pf, "sipphone_sip_dropped_total", "reason",
		       "rate_limit", gs.dropped_rate);
	err |= sample1(pf, "sipphone_sip_dropped_total", "reason",
		       "not_sip", gs.dropped_not_sip);
	err |= sample1(pf, "sipphone_sip_dropped_total", "reason",
		       "via_maddr", gs.dropped_maddr);
	err |= family(pf, "sipphone_sip_auth_total", "counter",
		      "Digest checks of REGISTERs and INVITEs, by result");
	err |= sample1(pf, "sipphone_sip_auth_total", "result", "ok", as.ok);
	err |= sample1(pf, "sipphone_sip_auth_total", "result",
		       "challenged", as.challenged);
	err |= sample1(pf, "sipphone_sip_auth_total", "result", "stale",
		       as.stale);
	err |= sample1(pf, "sipphone_sip_auth_total", "result",
		       "forbidden", as.forbidden);
	err |= sample1(pf, "sipphone_sip_auth_total", "result", "locked",
		       as.locked);
	err |= sample1(pf, "sipphone_sip_auth_total", "result", "bad",
		       as.bad);

	return err;
}


static int calls_count_print(struct re_printf *pf,
			     const struct calls_stats *st)
{
	unsigned d;
	size_t r;
	int err;

	err = family(pf, "sipphone_calls_total", "counter",
		     "Calls since start, by direction (from_phone: the phone"
		     " dialed; to_phone: the API rang it)");
	for (d = 0; d < CALLS_DIRS; d++)
		err |= sample1(pf, "sipphone_calls_total", "direction",
			       pcall_dir_name(d), st->started[d]);

	err |= family(pf, "sipphone_calls_answered_total", "counter",
		      "Calls answered since start, by direction");
	for (d = 0; d < CALLS_DIRS; d++)
		err |= sample1(pf, "sipphone_calls_answered_total",
			       "direction", pcall_dir_name(d),
			       st->answered[d]);

	err |= family(pf, "sipphone_calls_ended_total", "counter",
		      "Calls ended since start, by direction and end reason");
	for (d = 0; d < CALLS_DIRS; d++) {
		for (r = 0; r < CALLS_REASONS; r++)
			err |= re_hprintf(pf, "sipphone_calls_ended_total"
					  "{direction=\"%s\",reason=\"%s\"}"
					  " %llu\n", pcall_dir_name(d),
					  calls_reason_name(r),
					  (unsigned long long)st->ended[d][r]);
	}

	err |= family(pf, "sipphone_calls_current", "gauge",
		      "Calls now, by direction and state (ringing, active)");
	for (d = 0; d < CALLS_DIRS; d++) {
		err |= re_hprintf(pf, "sipphone_calls_current{direction="
				  "\"%s\",state=\"ringing\"} %u\n"
				  "sipphone_calls_current{direction="
				  "\"%s\",state=\"active\"} %u\n",
				  pcall_dir_name(d), st->ringing[d],
				  pcall_dir_name(d), st->active[d]);
	}

	err |= one_real(pf, "sipphone_calls_talk_seconds_total", "counter",
			"Answered time of ended calls, answer to end",
			st->talk_ms / 1000.0);

	return err;
}


static int rtp_print(struct re_printf *pf, const struct calls_stats *st)
{
	int err;

	err  = one(pf, "sipphone_rtp_packets_received_total", "counter",
		   "RTP packets from the phone, all calls",
		   st->rx_packets);
	err |= one(pf, "sipphone_rtp_packets_sent_total", "counter",
		   "RTP packets to the phone, all calls", st->tx_packets);

	err |= family(pf, "sipphone_rtp_packets_lost_total", "counter",
		      "RTP packets lost, as of the last RTCP report of each"
		      " call: direction in (the phone's, counted here) or out"
		      " (ours, as the phone reports)");
	err |= sample1(pf, "sipphone_rtp_packets_lost_total", "direction",
		       "in", st->lost);
	err |= sample1(pf, "sipphone_rtp_packets_lost_total", "direction",
		       "out", st->tx_lost);

	err |= family(pf, "sipphone_call_mos", "summary",
		      "MOS estimates (1 to 4.5, E-model) of ended calls that"
		      " had an RTCP report");
	err |= re_hprintf(pf, "sipphone_call_mos_sum %.3f\n"
			  "sipphone_call_mos_count %llu\n", st->mos_sum,
			  (unsigned long long)st->mos_count);

	return err;
}


/* Gauges of each live call with RTCP figures, labelled by its line */
static int live_print(struct re_printf *pf, struct httpctl *ctl)
{
	static const struct {
		const char *name;
		const char *help;
	} famv[] = {
		{"sipphone_live_call_mos",
		 "MOS estimate of the line's live call (1 to 4.5)"},
		{"sipphone_live_call_loss_ratio",
		 "Packet loss of the line's live call, the worse direction"},
		{"sipphone_live_call_jitter_seconds",
		 "Interarrival jitter of the phone's packets in the line's"
		 " live call"},
	};
	struct le *le;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(famv); i++) {
		err |= family(pf, famv[i].name, "gauge", famv[i].help);

		LIST_FOREACH(calls_active(ctl->calls), le) {
			const struct pcall *pc = le->data;
			struct quality q;
			double v;

			if (pcall_quality(pc, &q) || !q.rtcp)
				continue;

			v = i == 0 ? q.mos :
			    i == 1 ? max(q.loss_pct, q.tx_loss_pct) / 100 :
				     q.jitter_ms / 1000;

			err |= re_hprintf(pf, "%s{line=\"%H\"} %.4f\n",
					  famv[i].name, metrics_label_print,
					  pc->line, v);
		}
	}

	return err;
}


/* Connections of the web server, and those it refused as they came */
static int http_print(struct re_printf *pf, const struct httpctl *ctl)
{
	struct web_stats st;
	int i, err;

	web_stats(ctl->core->web, &st);

	err  = one(pf, "sipphone_http_connections", "gauge",
		   "HTTP and WebSocket connections open now", st.conns);
	err |= family(pf, "sipphone_http_connections_refused_total",
		      "counter", "Connections refused as they came, by reason"
		      " (conn_max, conn_per_addr: over httpctl_conn_max or"
		      " httpctl_conn_per_addr; descriptors: past what the"
		      " server can watch)");
	for (i = 0; i < WEB_REFUSE_N; i++)
		err |= sample1(pf, "sipphone_http_connections_refused_total",
			       "reason", web_refusal_name(i), st.refused[i]);
	err |= one(pf, "sipphone_http_accept_pauses_total", "counter",
		   "Times accepting connections paused: the process was out"
		   " of descriptors", st.accept_pauses);

	return err;
}


static int ws_print(struct re_printf *pf, const struct httpctl *ctl)
{
	struct wshub_stats st;
	size_t i;
	int err;

	wshub_stats(ctl->core->hub, &st);

	err  = one(pf, "sipphone_ws_clients", "gauge",
		   "WebSocket clients connected now", st.clients);
	err |= one(pf, "sipphone_ws_connections_total", "counter",
		   "WebSocket connections opened since start", st.opened);

	err |= family(pf, "sipphone_ws_closes_total", "counter",
		      "WebSocket connections closed, by close code (0: any"
		      " other)");
	for (i = 0; i < st.closec; i++)
		err |= re_hprintf(pf, "sipphone_ws_closes_total{code=\"%u\","
				  "reason=\"%s\"} %llu\n",
				  st.closev[i].code,
				  ws_close_name(st.closev[i].code),
				  (unsigned long long)st.closev[i].count);

	err |= one(pf, "sipphone_ws_messages_sent_total", "counter",
		   "WebSocket messages sent, all kinds", st.sent);
	err |= one(pf, "sipphone_ws_frames_sent_total", "counter",
		   "Frames of the phone's audio queued to WebSocket clients",
		   st.frames);
	err |= one(pf, "sipphone_ws_frames_dropped_total", "counter",
		   "Frames of the phone's audio dropped: a client lagged",
		   st.dropped);
	err |= one(pf, "sipphone_ws_queued_bytes", "gauge",
		   "Bytes waiting in the clients' send queues",
		   st.queued_bytes);
	err |= one_real(pf, "sipphone_ws_talk_dropped_seconds_total",
			"counter", "Clients' audio to the phone dropped: their"
			" queue was full", st.talk_dropped_ms / 1000.0);
	err |= one(pf, "sipphone_ws_talk_underruns_total", "counter",
		   "Frames to the phone padded with silence: a client's"
		   " audio ran dry", st.talk_underruns);

	return err;
}


static int events_print(struct re_printf *pf, struct httpctl *ctl,
			const struct health_webhooks *hw)
{
	const struct evbus *bus = ctl->core->bus;
	struct whdeliver_stats ds;
	struct evstore_status ss;
	uint64_t now = sptime_now_ms();
	int err;

	whdeliver_stats(ctl->whdeliver, &ds);
	evstore_status(ctl->core->store, &ss);

	err  = one(pf, "sipphone_events_published_total", "counter",
		   "Events published since start", evbus_published(bus));
	err |= one(pf, "sipphone_event_store_errors_total", "counter",
		   "Events the event log could not write when published",
		   evbus_store_errors(bus));
	err |= one(pf, "sipphone_event_store_pending", "gauge",
		   "Events waiting in memory to be written to the event log",
		   ss.pending);
	err |= one(pf, "sipphone_event_store_lost_total", "counter",
		   "Events never written to the event log: too many waited",
		   ss.lost);
	err |= one(pf, "sipphone_event_last_seq", "gauge",
		   "Seq of the newest event", evbus_last_seq(bus));

	err |= family(pf, "sipphone_webhook_deliveries_total", "counter",
		      "Webhook delivery attempts since start, by result (ok:"
		      " answered 2xx)");
	err |= sample1(pf, "sipphone_webhook_deliveries_total", "result",
		       "ok", ds.ok);
	err |= sample1(pf, "sipphone_webhook_deliveries_total", "result",
		       "failed", ds.failed);
	err |= one(pf, "sipphone_webhook_events_abandoned_total", "counter",
		   "Events given up after the last delivery attempt",
		   ds.abandoned);
	err |= one(pf, "sipphone_webhook_events_dropped_total", "counter",
		   "Events an endpoint owed, given up undelivered by"
		   " retention (httpctl_webhook_give_up, _backlog_max)",
		   ds.dropped);

	err |= family(pf, "sipphone_webhook_endpoints", "gauge",
		      "Webhook endpoints by state (ok, failing: the last"
		      " attempt failed, disabled)");
	err |= sample1(pf, "sipphone_webhook_endpoints", "state", "ok",
		       hw->enabled - hw->failing);
	err |= sample1(pf, "sipphone_webhook_endpoints", "state", "failing",
		       hw->failing);
	err |= sample1(pf, "sipphone_webhook_endpoints", "state", "disabled",
		       hw->disabled);

	err |= one(pf, "sipphone_webhook_pending_events", "gauge",
		   "Events waiting for delivery, all enabled endpoints",
		   hw->pending);
	err |= one_real(pf, "sipphone_webhook_oldest_pending_age_seconds",
			"gauge", "Age of the oldest event waiting for"
			" delivery (0: none)", hw->oldest_ms && now >
			hw->oldest_ms ? (now - hw->oldest_ms) / 1000.0 : 0);

	return err;
}


static int health_print(struct re_printf *pf, struct httpctl *ctl,
			const struct health_webhooks *hw)
{
	json_t *reasons = health_reasons(ctl, hw);
	const char *codev[8];
	uint64_t countv[8];
	size_t i, j, n = 0;
	int err;

	if (!reasons)
		return ENOMEM;

	/* one sample per reason code, counting its reasons */
	for (i = 0; i < json_array_size(reasons); i++) {
		const char *code = json_string_value(json_object_get(
					json_array_get(reasons, i), "code"));

		for (j = 0; j < n && str_cmp(codev[j], code); j++)
			;
		if (j == n && n == ARRAY_SIZE(codev))
			continue;
		if (j == n) {
			codev[n] = code;
			countv[n++] = 0;
		}
		++countv[j];
	}

	err = one(pf, "sipphone_degraded", "gauge",
		  "1 if GET /api/v1/health says degraded, else 0", n > 0);
	err |= family(pf, "sipphone_degraded_reasons", "gauge",
		      "Reasons the service is degraded now, by code");
	for (i = 0; i < n; i++)
		err |= sample1(pf, "sipphone_degraded_reasons", "code",
			       codev[i], countv[i]);

	json_decref(reasons);

	return err;
}


/**
 * Print every metric (use with %H)
 *
 * @param pf   Print function
 * @param ctl  The module
 *
 * @return 0 if success, otherwise errorcode
 */
int metrics_print(struct re_printf *pf, struct httpctl *ctl)
{
	struct health_webhooks hw;
	struct calls_stats cs;
	int err;

	if (!pf || !ctl)
		return EINVAL;

	calls_stats(ctl->calls, &cs);
	health_webhooks(ctl, &hw);

	err  = process_print(pf, ctl);
	err |= sip_print(pf, ctl);
	err |= gate_print(pf, ctl);
	err |= calls_count_print(pf, &cs);
	err |= rtp_print(pf, &cs);
	err |= live_print(pf, ctl);
	err |= http_print(pf, ctl);
	err |= ws_print(pf, ctl);
	err |= events_print(pf, ctl, &hw);
	err |= health_print(pf, ctl, &hw);

	return err;
}
