/**
 * @file calls.c  Calls: baresip UA events turned into API calls and events
 *
 * Every baresip call on our UA gets a struct pcall with its own API id.
 * The pcall outlives the baresip call: once ended it moves to a short
 * list of recent calls that GET /calls?state=all and GET /calls/{id} show.
 *
 * Quality: the call's RTP and RTCP figures are read when it closes
 * (baresip's call and its audio stream still exist then) and published
 * as call.quality after call.ended. The table counts calls by direction
 * and end reason, and the RTP of ended calls, for health and metrics.
 *
 * Every call ends with one call.ended, whatever happens to the process:
 *  - a clean stop (SIGTERM): baresip frees its calls at UA_EVENT_SHUTDOWN
 *    without a CALL_CLOSED, so we end ours there, reason "shutdown";
 *  - a crash: each live call is a row in the store (callstore.c); rows
 *    left at start are calls the last run died with. They are listed
 *    as ended at once (reason "service_restart"), and their call.ended
 *    is published RESTART_NOTICE_MS later, so that WebSocket clients that
 *    reconnect as the service comes back hear it too (the event log and
 *    the webhooks have it either way). Its duration runs from the answer
 *    to the last time the call was seen alive (stamped every ALIVE_MS).
 *
 * Strings from the phone (its URI, the digits it dialed, the words of a
 * SIP answer) are made valid UTF-8 as they are kept (utf8_clean()).
 *
 * Threads: main thread only (UA events, REST handlers, timers).
 */

#include "sipphone.h"
#include "sip/sip.h"


enum {
	ENDED_KEEP = 100,      /* recent ended calls kept for the API */
	ALIVE_MS = 5000,       /* live calls' rows stamped this often  */
	RESTART_NOTICE_MS = 5000,  /* calls we died with: call.ended then */
};

struct calls {
	struct list activel;   /* struct pcall, ringing or active */
	struct list endedl;    /* struct pcall, newest last       */
	struct ua *ua;
	struct lines *lines;
	struct evbus *bus;
	struct evstore *store; /* its database keeps the live calls */
	struct siptrace *trace;
	struct calls_stats tot;  /* live calls' RTP not included         */
	struct tmr tmr_alive;  /* stamps the live calls' rows          */
	struct tmr tmr_notice; /* publishes the calls we died with     */
	bool shutdown;
};

/* Every reason end_reason() gives; the last one takes any other */
static const char *const reasonv[CALLS_REASONS] = {
	"phone_hangup", "api_hangup", "no_answer", "busy", "rejected",
	"timeout", "shutdown", "service_restart", "error"
};

static const char reason_restart[] = "service_restart";


static void pcall_destructor(void *arg)
{
	struct pcall *pc = arg;

	list_unlink(&pc->le);
	tmr_cancel(&pc->tmr_ring);
	mem_deref(pc->dtmf);
	mem_deref(pc->id);
	mem_deref(pc->sip_callid);
	mem_deref(pc->line);
	mem_deref(pc->dialed);
	mem_deref(pc->from);
	mem_deref(pc->end_detail);
}


static void ua_event_handler(struct ua *ua, enum ua_event ev,
			     struct call *call, const char *prm, void *arg);


static void calls_destructor(void *arg)
{
	struct calls *calls = arg;

	uag_event_unregister(ua_event_handler);
	tmr_cancel(&calls->tmr_alive);
	tmr_cancel(&calls->tmr_notice);
	mem_deref(calls->trace);
	list_flush(&calls->activel);
	list_flush(&calls->endedl);
	mem_deref(calls->store);
}


static struct sqlite3 *calls_db(const struct calls *calls)
{
	return calls->store ? evstore_db(calls->store) : NULL;
}


static void alive_handler(void *arg)
{
	struct calls *calls = arg;

	if (list_isempty(&calls->activel))
		return;

	(void)callstore_alive(calls_db(calls), sptime_now_ms());
	tmr_start(&calls->tmr_alive, ALIVE_MS, alive_handler, calls);
}


/* Written through: a row per live call, stamped while calls live */
static void pcall_save(const struct pcall *pc)
{
	struct calls *calls = pc->calls;

	if (!calls_db(calls))
		return;

	(void)callstore_save(calls_db(calls), pc, sptime_now_ms());

	if (!tmr_isrunning(&calls->tmr_alive))
		tmr_start(&calls->tmr_alive, ALIVE_MS, alive_handler, calls);
}


/* The user part of a SIP URI, or an empty pl */
static void uri_user(struct pl *user, const char *uri)
{
	struct pl u;

	pl_set_str(&u, uri);
	if (re_regex(u.p, u.l, "sip[s]*:[^@;>]+@", NULL, user))
		user->l = 0;
}


static int pcall_alloc(struct pcall **pcp, struct calls *calls,
		       struct call *call, const char *line,
		       enum pcall_dir dir)
{
	struct pcall *pc;
	char *dev = NULL;
	int err;

	pc = mem_zalloc(sizeof(*pc), pcall_destructor);
	if (!pc)
		return ENOMEM;

	pc->calls = calls;
	pc->call = call;
	tmr_init(&pc->tmr_ring);
	pc->dir = dir;
	pc->state = PCALL_RINGING;
	pc->started_at = sptime_now_ms();

	err  = randid_alloc(&pc->id, "call_", 6);
	err |= str_dup(&pc->line, line);
	err |= str_dup(&pc->sip_callid, call_id(call));
	if (err)
		goto out;

	err = dtmf_tx_alloc(&pc->dtmf, call);
	if (err)
		goto out;

	/* wsaudio bridges the device "<line>/<call id>" to the line's
	   clients; menu.so's ring tones play elsewhere, never in a call */
	err = calldev_print(&dev, line, pc->id);
	if (!err)
		err = audio_set_devicename(call_audio(call), dev, dev);
	mem_deref(dev);
	if (err)
		goto out;

	list_append(&calls->activel, &pc->le, pc);
	++calls->tot.started[dir];

 out:
	if (err)
		mem_deref(pc);
	else
		*pcp = pc;

	return err;
}


/**
 * Publish an event about a call; data gets "call" and "line" first
 *
 * @param pc    The call
 * @param type  Event type
 * @param data  Further data fields (reference stolen), or NULL
 */
void calls_publish(struct pcall *pc, const char *type, json_t *data)
{
	json_t *ev;

	ev = json_pack("{s:s, s:s}", "call", pc->id, "line", pc->line);
	if (ev && data)
		(void)json_object_update(ev, data);
	json_decref(data);

	if (!ev) {
		warning("httpctl: %s of %s not published: out of memory\n",
			type, pc->id);
		return;
	}

	(void)evbus_publish(pc->calls->bus, type, ev);
}


static const char *end_reason(const struct pcall *pc, uint16_t scode,
			      const char *detail)
{
	if (pc->ring_timeout)
		return "no_answer";
	if (pc->hangup_by_api)
		return "api_hangup";
	if (pc->calls->shutdown)
		return "shutdown";

	switch (scode) {

	case 0:
		break;
	case 486:
	case 600:
		return "busy";
	case 408:
	case 480:
	case 487:
		return "no_answer";
	default:
		if (scode >= 300)
			return "rejected";
		break;
	}

	if (0 == str_casecmp(detail, "Local timeout"))
		return "timeout";

	/* a BYE or CANCEL from the phone closes the session as a reset */
	if (detail && strstr(detail, "reset by peer"))
		return "phone_hangup";

	if (!str_isset(detail) && pc->state != PCALL_RINGING)
		return "phone_hangup";

	return "error";
}


/* An ended call's counts go to the table's totals */
static void pcall_account(struct pcall *pc, uint64_t dur)
{
	struct calls_stats *tot = &pc->calls->tot;
	const struct quality *q = &pc->quality;
	size_t i;

	for (i = 0; i < CALLS_REASONS - 1; i++) {
		if (0 == str_cmp(reasonv[i], pc->end_reason))
			break;
	}
	++tot->ended[pc->dir][i];
	tot->talk_ms += dur;

	if (!pc->quality_known)
		return;

	tot->rx_packets += q->rx_packets;
	tot->tx_packets += q->tx_packets;
	tot->lost += max(q->lost, pc->lost_seen);
	tot->tx_lost += max(q->tx_lost, pc->tx_lost_seen);

	if (q->rtcp && pc->answered_at) {
		++tot->mos_count;
		tot->mos_sum += q->mos;
	}
}


static void pcall_end(struct pcall *pc, const char *detail)
{
	struct calls *calls = pc->calls;
	uint64_t dur;

	pc->sip_code = pc->call ? call_scode(pc->call) : 0;
	pc->end_reason = end_reason(pc, pc->sip_code, detail);
	/* baresip's words may quote the phone's reason phrase */
	if (detail)
		(void)utf8_clean(&pc->end_detail, detail, strlen(detail));
	pc->ended_at = sptime_now_ms();
	pc->state = PCALL_ENDED;
	pc->call = NULL;
	tmr_cancel(&pc->tmr_ring);
	siptrace_forget(calls->trace, pc->sip_callid);
	pc->dtmf = mem_deref(pc->dtmf);

	dur = pc->answered_at ? pc->ended_at - pc->answered_at : 0;

	info("httpctl: %s on line %s ended: %s (%s)\n", pc->id, pc->line,
	     pc->end_reason, detail ? detail : "");

	list_unlink(&pc->le);
	list_append(&calls->endedl, &pc->le, pc);
	if (list_count(&calls->endedl) > ENDED_KEEP)
		mem_deref(list_head(&calls->endedl)->data);

	if (calls_db(calls))
		(void)callstore_remove(calls_db(calls), pc->id);

	calls_publish(pc, "call.ended",
		      json_pack("{s:s, s:I, s:s?, s:o}",
				"reason", pc->end_reason,
				"duration_ms", (json_int_t)dur,
				"detail", pc->end_detail,
				"sip_code", pc->sip_code
				? json_integer(pc->sip_code) : json_null()));

	pcall_account(pc, dur);

	/* a call that was never answered had no audio to judge */
	if (pc->quality_known && pc->answered_at) {
		info("httpctl: %s quality: MOS %.2f, %u packets in, %u out,"
		     " %.2f %% lost, jitter %.1f ms\n", pc->id,
		     pc->quality.mos, pc->quality.rx_packets,
		     pc->quality.tx_packets, pc->quality.loss_pct,
		     pc->quality.jitter_ms);
		calls_publish(pc, "call.quality",
			      quality_encode(&pc->quality));
	}
}


static void pcall_answered(struct pcall *pc, const char *by)
{
	if (pc->state != PCALL_RINGING)
		return;

	pc->state = PCALL_ACTIVE;
	pc->answered_at = sptime_now_ms();
	tmr_cancel(&pc->tmr_ring);
	pc->answered_by = by;
	++pc->calls->tot.answered[pc->dir];

	info("httpctl: %s on line %s answered by %s\n", pc->id, pc->line, by);
	pcall_save(pc);

	calls_publish(pc, "call.answered", json_pack("{s:s}", "by", by));
}


static struct pcall *pcall_of(const struct calls *calls,
			      const struct call *call)
{
	struct le *le;

	for (le = list_head(&calls->activel); le; le = le->next) {
		struct pcall *pc = le->data;

		if (pc->call == call)
			return pc;
	}

	return NULL;
}


/* The phone went off-hook and dialed: an INVITE from a registered line */
static void on_incoming(struct calls *calls, struct call *call)
{
	const char *peer = call_peeruri(call);
	const struct line *line;
	struct pcall *pc = NULL;
	struct pl user, dialed;
	struct sa src;
	char lineid[64];
	int err;

	uri_user(&user, peer);
	(void)pl_strcpy(&user, lineid, sizeof(lineid));

	line = user.l ? lines_find(calls->lines, lineid) : NULL;
	if (!line || !line->registered) {
		/* our handler runs last, so no one else sees the freed call */
		warning("httpctl: rejecting call from %s: not a registered"
			" line\n", peer);
		ua_hangup(calls->ua, call, 403, "Forbidden");
		return;
	}

	/* the line's own device: the address it registered from */
	if (siptrace_invite_src(calls->trace, call_id(call), &src) ||
	    !sa_cmp(&src, &line->src, SA_ADDR)) {
		warning("httpctl: rejecting call from %s at %J: line %s"
			" registered from %J\n", peer, &src, lineid,
			&line->src);
		ua_hangup(calls->ua, call, 403, "Forbidden");
		return;
	}

	if (calls_find_line(calls, lineid)) {
		warning("httpctl: line %s is busy: rejecting a second call\n",
			lineid);
		ua_hangup(calls->ua, call, 486, "Busy Here");
		return;
	}

	err = pcall_alloc(&pc, calls, call, lineid, PCALL_FROM_PHONE);
	if (err) {
		errlog("httpctl: call from %s: %m\n", peer, err);
		ua_hangup(calls->ua, call, 500, "Server Error");
		return;
	}

	uri_user(&dialed, call_localuri(call));
	err  = utf8_clean(&pc->dialed, dialed.p, dialed.l);
	err |= utf8_clean(&pc->from, peer, str_len(peer));
	if (err)
		warning("httpctl: %s: %m\n", pc->id, err);

	pcall_save(pc);

	info("httpctl: %s: line %s dialed '%s'\n", pc->id, pc->line,
	     pc->dialed ? pc->dialed : "");

	calls_publish(pc, "call.incoming",
		      json_pack("{s:s?, s:s?}", "dialed", pc->dialed,
				"from", pc->from));
}


/*
 * The service stops: baresip frees its calls right after this event,
 * without CALL_CLOSED. Each of ours ends here, with its quality, while
 * the call and its stream are still there.
 */
static void calls_end_all(struct calls *calls)
{
	struct le *le;

	while ((le = list_head(&calls->activel))) {
		struct pcall *pc = le->data;

		pc->quality_known = pc->call &&
			!quality_read(&pc->quality, pc->call);
		pcall_end(pc, "service stopping");
	}
}


static void ua_event_handler(struct ua *ua, enum ua_event ev,
			     struct call *call, const char *prm, void *arg)
{
	struct calls *calls = arg;
	struct pcall *pc;

	if (ev == UA_EVENT_SHUTDOWN) {
		calls->shutdown = true;
		if (ua == calls->ua)
			calls_end_all(calls);
		return;
	}

	if (ua != calls->ua || !call)
		return;

	if (ev == UA_EVENT_CALL_INCOMING) {
		on_incoming(calls, call);
		return;
	}

	pc = pcall_of(calls, call);
	if (!pc)
		return;

	switch (ev) {

	case UA_EVENT_CALL_RINGING:
	case UA_EVENT_CALL_PROGRESS:
		if (pc->dir == PCALL_TO_PHONE && !pc->ringing_seen) {
			pc->ringing_seen = true;
			calls_publish(pc, "call.ringing", NULL);
		}
		break;

	case UA_EVENT_CALL_ESTABLISHED:
		pcall_answered(pc, pc->dir == PCALL_TO_PHONE ? "phone"
							      : "api");
		break;

	case UA_EVENT_CALL_CLOSED:
		/* the last look at its stream, which goes with the call */
		pc->quality_known = !quality_read(&pc->quality, call);
		pcall_end(pc, prm);
		break;

	case UA_EVENT_CALL_DTMF_START:
		if (!prm || !prm[0])
			break;
		{
			const char *method = siptrace_dtmf_method(
				calls->trace, pc->sip_callid, prm[0]);

			if (!method)
				break;
			calls_publish(pc, "dtmf",
				      json_pack("{s:s, s:s}", "digit", prm,
						"method", method));
		}
		break;

	default:
		break;
	}
}


/* Is this SIP Call-ID one of our live calls? (for the SIP trace) */
static bool live_handler(const struct pl *callid, void *arg)
{
	const struct calls *calls = arg;
	struct le *le;

	for (le = list_head(&calls->activel); le; le = le->next) {
		const struct pcall *pc = le->data;

		if (0 == pl_strcmp(callid, pc->sip_callid))
			return true;
	}

	return false;
}


/* A hook flash by SIP INFO, on a call's dialog */
static void flash_handler(const char *callid, void *arg)
{
	struct pcall *pc = calls_find_sip(arg, callid);

	if (!pc)
		return;

	info("httpctl: %s: hook flash (SIP INFO)\n", pc->id);
	calls_publish(pc, "call.flash", json_pack("{s:s}", "method", "info"));
}


/* The calls the last run died with: their call.ended, at last */
static void notice_handler(void *arg)
{
	struct calls *calls = arg;
	struct le *le;

	for (le = list_head(&calls->endedl); le; le = le->next) {
		struct pcall *pc = le->data;
		uint64_t dur;

		if (!pc->restart_due)
			continue;

		pc->restart_due = false;
		dur = pc->answered_at ? pc->ended_at - pc->answered_at : 0;

		(void)callstore_remove(calls_db(calls), pc->id);
		calls_publish(pc, "call.ended",
			      json_pack("{s:s, s:I, s:n, s:n}",
					"reason", pc->end_reason,
					"duration_ms", (json_int_t)dur,
					"detail", "sip_code"));
		pcall_account(pc, dur);
	}
}


/* A call the last run died with: listed as ended, said so soon */
static int restore_handler(const struct callstore_row *row, void *arg)
{
	struct calls *calls = arg;
	struct pcall *pc;
	int err;

	pc = mem_zalloc(sizeof(*pc), pcall_destructor);
	if (!pc)
		return ENOMEM;

	pc->calls = calls;
	tmr_init(&pc->tmr_ring);
	pc->dir = row->dir;
	pc->state = PCALL_ENDED;
	pc->started_at = row->started_at;
	pc->answered_at = row->answered_at;
	pc->ended_at = max(row->alive_at, max(row->answered_at,
					      row->started_at));
	pc->end_reason = reason_restart;
	pc->restart_due = true;

	err  = str_dup(&pc->id, row->id);
	err |= str_dup(&pc->line, row->line);
	if (row->dialed)
		err |= str_dup(&pc->dialed, row->dialed);
	if (row->from)
		err |= str_dup(&pc->from, row->from);
	if (err) {
		mem_deref(pc);
		return err;
	}

	list_append(&calls->endedl, &pc->le, pc);

	info("httpctl: %s on line %s was live when the service stopped:"
	     " ended\n", pc->id, pc->line);

	return 0;
}


/**
 * Create the call table and start following our UA's calls
 *
 * @param callsp  Returned call table
 * @param ua      The API's user agent
 * @param lines   Line table (who may call, whom to ring)
 * @param bus     Event bus
 * @param store   Event store whose database keeps the live calls
 *                (referenced), or NULL: a crash ends calls unheard of
 * @param sip     baresip's SIP stack (read for what baresip hides)
 *
 * @return 0 if success, otherwise errorcode
 */
int calls_alloc(struct calls **callsp, struct ua *ua, struct lines *lines,
		struct evbus *bus, struct evstore *store, struct sip *sip)
{
	struct calls *calls;
	int err;

	if (!callsp || !ua || !lines || !bus || !sip ||
	    (store && !evstore_db(store)))
		return EINVAL;

	calls = mem_zalloc(sizeof(*calls), calls_destructor);
	if (!calls)
		return ENOMEM;

	calls->ua = ua;
	calls->lines = lines;
	calls->bus = bus;
	calls->store = mem_ref(store);
	tmr_init(&calls->tmr_alive);
	tmr_init(&calls->tmr_notice);

	if (store) {
		err = callstore_open(evstore_db(store));
		if (err)
			goto out;

		err = callstore_load(evstore_db(store), restore_handler,
				     calls);
		if (err)
			goto out;

		if (!list_isempty(&calls->endedl))
			tmr_start(&calls->tmr_notice, RESTART_NOTICE_MS,
				  notice_handler, calls);
	}

	err = siptrace_alloc(&calls->trace, sip, live_handler, flash_handler,
			     calls);
	if (err)
		goto out;

	err = uag_event_register(ua_event_handler, calls);

 out:
	if (err)
		mem_deref(calls);
	else
		*callsp = calls;

	return err;
}


static void ring_timeout(void *arg)
{
	struct pcall *pc = arg;

	info("httpctl: %s: line %s did not answer in time\n", pc->id,
	     pc->line);

	pc->ring_timeout = true;
	ua_hangup(pc->calls->ua, pc->call, 0, NULL);
}


/*
 * Connect with the caller ID the phone shows: the From's user is the
 * number (ua_connect()'s from_uri), its display name the account's,
 * which is set for this one call (call_alloc() copies it) and put back
 */
static int connect_as(struct calls *calls, const struct line *line,
		      const struct caller *caller, char *from, size_t sz,
		      struct call **callp)
{
	struct account *acc = ua_account(calls->ua);
	char *dname = NULL;
	int err;

	str_ncpy(from, ua_aor(calls->ua), sz);
	if (caller && caller->number[0]) {
		err = caller_from_uri(from, sz, ua_aor(calls->ua),
				      caller->number);
		if (err)
			return err;
	}

	if (!caller || !caller->name[0])
		return ua_connect(calls->ua, callp, from, line->dial_uri,
				  VIDMODE_OFF);

	if (account_display_name(acc)) {
		err = str_dup(&dname, account_display_name(acc));
		if (err)
			return err;
	}

	err = account_set_display_name(acc, caller->name);
	if (!err)
		err = ua_connect(calls->ua, callp, from, line->dial_uri,
				 VIDMODE_OFF);

	(void)account_set_display_name(acc, dname);
	mem_deref(dname);

	return err;
}


/**
 * Ring the phone on a line
 *
 * @param calls   Call table
 * @param line    A registered, idle line
 * @param caller  Caller ID the phone shows, or NULL for the account's
 * @param ring_s  Give up after this many seconds of ringing (0: never)
 * @param pcp     Returned call (owned by the table)
 *
 * @return 0 if success, otherwise errorcode
 */
int calls_dial(struct calls *calls, const struct line *line,
	       const struct caller *caller, uint32_t ring_s,
	       struct pcall **pcp)
{
	struct call *call = NULL;
	struct pcall *pc = NULL;
	char from[256];
	int err;

	if (!calls || !line || !pcp)
		return EINVAL;

	err = connect_as(calls, line, caller, from, sizeof(from), &call);
	if (err) {
		errlog("httpctl: ringing line %s at %s: %m\n",
			line->id, line->dial_uri, err);
		return err;
	}

	err = pcall_alloc(&pc, calls, call, line->id, PCALL_TO_PHONE);
	if (!err)
		err = str_dup(&pc->from, from);
	if (err) {
		mem_deref(pc);
		ua_hangup(calls->ua, call, 0, NULL);
		return err;
	}

	pcall_save(pc);

	if (ring_s)
		tmr_start(&pc->tmr_ring, ring_s * 1000, ring_timeout, pc);

	info("httpctl: %s: ringing line %s at %s\n", pc->id, line->id,
	     line->dial_uri);

	*pcp = pc;

	return 0;
}


/**
 * Answer a call from the phone
 *
 * @return 0 if success, EPROTO if the call is not a ringing call from
 *         the phone, otherwise errorcode
 */
int calls_answer(struct pcall *pc)
{
	int err;

	if (!pc)
		return EINVAL;

	if (pc->dir != PCALL_FROM_PHONE || pc->state != PCALL_RINGING)
		return EPROTO;

	err = ua_answer(pc->calls->ua, pc->call, VIDMODE_OFF);
	if (err)
		return err;

	/* the 200 OK is sent and our audio runs: the call is answered now,
	   not when the ACK arrives */
	pcall_answered(pc, "api");

	return 0;
}


/**
 * End a call, ringing or active
 *
 * @return 0 if success, EPROTO if it already ended, otherwise errorcode
 */
int calls_hangup(struct pcall *pc)
{
	if (!pc)
		return EINVAL;

	if (pc->state == PCALL_ENDED || !pc->call)
		return EPROTO;

	pc->hangup_by_api = true;

	/* emits UA_EVENT_CALL_CLOSED at once: the call is ended on return */
	ua_hangup(pc->calls->ua, pc->call, 0, NULL);

	return 0;
}


/**
 * Send DTMF digits to the phone (RFC 2833), one after the other
 *
 * @return 0 if queued, EPROTO if the call is not active, EINVAL for
 *         digits outside 0-9 * # A-D
 */
int calls_send_dtmf(struct pcall *pc, const char *digits)
{
	if (!pc || !dtmf_digits_valid(digits))
		return EINVAL;

	if (pc->state != PCALL_ACTIVE || !pc->dtmf)
		return EPROTO;

	return dtmf_tx_queue(pc->dtmf, digits);
}


static struct pcall *find_in(const struct list *l, const char *id)
{
	struct le *le;

	for (le = list_head(l); le; le = le->next) {
		struct pcall *pc = le->data;

		if (0 == str_cmp(pc->id, id))
			return pc;
	}

	return NULL;
}


/** A call, active or recently ended, by its API id */
struct pcall *calls_find(const struct calls *calls, const char *id)
{
	struct pcall *pc;

	if (!calls || !id)
		return NULL;

	pc = find_in(&calls->activel, id);

	return pc ? pc : find_in(&calls->endedl, id);
}


/** An active call by its SIP Call-ID */
struct pcall *calls_find_sip(const struct calls *calls, const char *callid)
{
	struct le *le;

	if (!calls || !callid)
		return NULL;

	for (le = list_head(&calls->activel); le; le = le->next) {
		struct pcall *pc = le->data;

		if (0 == str_cmp(pc->sip_callid, callid))
			return pc;
	}

	return NULL;
}


/** The active (ringing or answered) call of a line, if any */
struct pcall *calls_find_line(const struct calls *calls, const char *line)
{
	struct le *le;

	if (!calls || !line)
		return NULL;

	for (le = list_head(&calls->activel); le; le = le->next) {
		struct pcall *pc = le->data;

		if (0 == str_cmp(pc->line, line))
			return pc;
	}

	return NULL;
}


/** Active calls, oldest first */
struct list *calls_active(struct calls *calls)
{
	return calls ? &calls->activel : NULL;
}


/** Recently ended calls, oldest first */
struct list *calls_ended(struct calls *calls)
{
	return calls ? &calls->endedl : NULL;
}


/**
 * What a line is doing
 *
 * @param calls    Call table
 * @param line     Line id
 * @param callidp  Returned API id of its call, or NULL
 *
 * @return the line state
 */
enum line_state calls_line_state(const struct calls *calls,
				 const char *line, const char **callidp)
{
	const struct pcall *pc = calls_find_line(calls, line);

	if (callidp)
		*callidp = pc ? pc->id : NULL;

	if (!pc)
		return LINE_IDLE;

	return pc->state == PCALL_RINGING ? LINE_RINGING : LINE_IN_CALL;
}


/** The API line object, with the line's call state */
json_t *calls_line_encode(const struct calls *calls, const struct line *l)
{
	const char *callid;
	enum line_state st = calls_line_state(calls, l->id, &callid);

	return line_encode(l, st, callid);
}


/** "ringing", "active" or "ended" */
const char *pcall_state_name(enum pcall_state st)
{
	switch (st) {

	case PCALL_RINGING: return "ringing";
	case PCALL_ACTIVE:  return "active";
	case PCALL_ENDED:   return "ended";
	default:            return "?";
	}
}


/**
 * A call's quality: live while it runs, as it ended once ended
 *
 * @return 0 if success, ENOENT if there is none (not answered, no audio)
 */
int pcall_quality(const struct pcall *pc, struct quality *q)
{
	if (!pc || !q)
		return EINVAL;

	if (!pc->answered_at)
		return ENOENT;

	if (pc->state == PCALL_ENDED) {
		if (!pc->quality_known)
			return ENOENT;
		*q = pc->quality;
		return 0;
	}

	return pc->call ? quality_read(q, pc->call) : ENOENT;
}


/**
 * What the table counted since start, with the live calls' RTP
 *
 * @param calls  Call table
 * @param st     Returned counters
 */
void calls_stats(struct calls *calls, struct calls_stats *st)
{
	struct le *le;

	if (!calls || !st)
		return;

	*st = calls->tot;

	for (le = list_head(&calls->activel); le; le = le->next) {
		struct pcall *pc = le->data;
		struct quality q;

		if (pc->state == PCALL_RINGING)
			++st->ringing[pc->dir];
		else
			++st->active[pc->dir];

		if (!pc->call || quality_read(&q, pc->call))
			continue;

		/* counters: a loss figure that went back counts as it was */
		pc->lost_seen = max(pc->lost_seen, q.lost);
		pc->tx_lost_seen = max(pc->tx_lost_seen, q.tx_lost);

		st->rx_packets += q.rx_packets;
		st->tx_packets += q.tx_packets;
		st->lost += pc->lost_seen;
		st->tx_lost += pc->tx_lost_seen;
	}
}


/** How many SIP dialogs the trace has notes of (one per live call, at
    most; a debug figure for /metrics) */
size_t calls_trace_dialogs(const struct calls *calls)
{
	return calls ? siptrace_dialogs(calls->trace) : 0;
}


/** The name of end reason i (0 to CALLS_REASONS - 1) */
const char *calls_reason_name(size_t i)
{
	return i < CALLS_REASONS ? reasonv[i] : NULL;
}


/** "from_phone" or "to_phone" */
const char *pcall_dir_name(enum pcall_dir dir)
{
	return dir == PCALL_FROM_PHONE ? "from_phone" : "to_phone";
}


/** The API call object */
json_t *pcall_encode(const struct pcall *pc)
{
	uint64_t end = pc->ended_at ? pc->ended_at : sptime_now_ms();
	uint64_t dur = pc->answered_at ? end - pc->answered_at : 0;
	struct quality q;

	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:s?, s:I, s:o, s:o}",
			 "id", pc->id,
			 "line", pc->line,
			 "direction", pcall_dir_name(pc->dir),
			 "state", pcall_state_name(pc->state),
			 "dialed", utf8_json(pc->dialed),
			 "from", utf8_json(pc->from),
			 "started_at", jx_time(pc->started_at),
			 "answered_at", jx_time(pc->answered_at),
			 "ended_at", jx_time(pc->ended_at),
			 "end_reason", jx_str(pc->end_reason),
			 "answered_by", pc->answered_by,
			 "duration_ms", (json_int_t)dur,
			 "sip_code", pc->sip_code ? json_integer(pc->sip_code)
						  : json_null(),
			 "quality", pcall_quality(pc, &q) ? json_null()
							   : quality_encode(&q));
}
