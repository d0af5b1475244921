/**
 * @file deliver.c  The webhook delivery engine
 *
 * Each endpoint is a small state machine on libre's loop:
 *
 *   idle --(an event it wants, a redelivery, a due retry)--> in flight
 *   in flight --(2xx)--> settled: the next one
 *   in flight --(410)--> disabled, webhook.disabled published
 *   in flight --(anything else, an error, 15 s)--> waiting for the
 *        next attempt (retry.c), or failed for good after the eighth
 *
 * One attempt in flight per endpoint, events in seq order: the event at
 * the head of an endpoint's queue blocks the ones after it until it is
 * delivered or has failed for good. Redeliveries (retry, test) go out of
 * band: they are sent while the head waits for its next attempt, never
 * while another attempt is in flight. Endpoints are independent: each
 * has its own timer and its own attempt in flight, and nothing here
 * blocks. The POSTs go through http.c (libcurl), which keeps
 * connections alive between them.
 *
 * Durability: the state an outcome leads to is written (one small
 * transaction: the endpoint's row and the delivery record) before the
 * engine acts on it, so an event acknowledged with a 2xx is never sent
 * again after a restart, and one whose outcome was not written is sent
 * again (at least once). On start, a pending head keeps its stored time
 * (due at once if it has passed).
 *
 * Retention: an endpoint that falls too far behind (retain.c) gives up
 * what it owes beyond that, so the event log stays bounded even when an
 * endpoint fails forever. A pass over the endpoints every
 * whretain_interval_ms() records each event given up as a failed
 * delivery ("dropped by retention") and moves the cursor past it, in
 * one transaction per step, then lets the log trim. An attempt in
 * flight is never cut short: its endpoint waits for the next pass.
 *
 * Counters (for health and metrics): attempts by result since start,
 * events given up, and per endpoint the failures since its last success
 * and the last error; in memory only, while the head's stored attempts
 * survive a restart.
 *
 * Threads: main thread only.
 */

#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	POST_TIMEOUT_MS = 15000,       /* connect and answer, in all      */
	SCAN_MAX = 1000,               /* events read per step of a scan  */
	DB_RETRY_MS = 5000,            /* after a database error          */
	STORED_WAIT_MS = 1000,         /* events the store writes late    */
	PRUNE_MS = 10 * 60 * 1000,     /* delivery records of gone events */
};

struct whdeliver {
	struct webhooks *whs;
	struct evbus *bus;
	struct evstore *store;
	struct evbus_sub *sub;
	struct whhttp *http;
	struct whretain retain;
	struct tmr tmr_prune;
	struct tmr tmr_retain;       /* the next pass of giving up      */
	struct tmr tmr_stored;       /* events the store writes late    */
	struct whdeliver_stats stats;
};

/* One endpoint's delivery state, in memory; what must survive a
   restart is in its row and the outbox tables */
struct whdl {
	struct whdeliver *wd;
	struct webhook *wh;          /* owns us: wh->dl                 */
	struct tmr tmr;              /* the next due attempt, or a nudge */
	struct whhttp_req *post;     /* the attempt in flight           */
	struct whoutbox_event *ev;   /* its event                       */
	struct webhook_job job;      /* its job, as before the attempt  */
	bool redelivery;             /* the job is out of band          */
	uint64_t started_ms;         /* unix ms the attempt began       */
	uint64_t started_mono;       /* the same, on the loop's clock    */
	uint32_t fails;              /* since the last success          */
	char error[160];             /* the last failure's              */
	uint64_t last_ok_ms;
	uint64_t last_fail_ms;
	uint64_t dropped;            /* events given up since start     */
	struct whoutbox_drop pass;   /* given up in this pass, to log   */
	bool dropping;               /* a pass is not done with us: no
					attempt starts until it is      */
};

/* What the pass of giving up goes by */
struct beyond {
	const struct whretain *r;
	uint64_t last_seq;
	uint64_t now;
};


static const char gone_reason[] = "the endpoint answered 410 Gone";


static void run_handler(void *arg);


static void dl_destructor(void *arg)
{
	struct whdl *dl = arg;

	tmr_cancel(&dl->tmr);
	mem_deref(dl->post);
	mem_deref(dl->ev);
}


static void nudge(struct whdl *dl)
{
	if (!dl->post)
		tmr_start(&dl->tmr, 0, run_handler, dl);
}


static void later(struct whdl *dl, uint64_t ms)
{
	tmr_start(&dl->tmr, ms, run_handler, dl);
}


static int dl_attach(struct whdeliver *wd, struct webhook *wh)
{
	struct whdl *dl;

	if (wh->dl)
		return 0;

	dl = mem_zalloc(sizeof(*dl), dl_destructor);
	if (!dl)
		return ENOMEM;

	tmr_init(&dl->tmr);
	dl->wd = wd;
	dl->wh = wh;
	wh->dl = dl;

	return 0;
}


static const char *state_word(enum whd_state st)
{
	switch (st) {

	case WHD_DELIVERED: return "delivered";
	case WHD_FAILED:    return "failed";
	default:            return "pending";
	}
}


/* Named by its id and description: the URL may hold the receiver's
   token, and events go to every WebSocket client and endpoint */
static void publish_disabled(struct whdl *dl)
{
	const struct webhook *wh = dl->wh;

	(void)evbus_publish(dl->wd->bus, "webhook.disabled",
			    json_pack("{s:s, s:o, s:s}",
				      "webhook", wh->id,
				      "description", jx_str(wh->description),
				      "reason", gone_reason));
}


/* What an outcome leads to, in memory and on disk in one transaction:
   the endpoint's state, the delivery record, the redelivery */
static void outcome_save(struct whdl *dl, const struct whd_record *rec,
			 const struct webhook_job *job, bool settled,
			 bool gone)
{
	struct webhook *wh = dl->wh;
	struct sqlite3 *db = webhooks_db(wh->whs);
	int err, e = 0;

	err = db_begin(db);

	/* the state changes in memory whatever the database says: the
	   engine goes on from there */
	if (gone)
		e = webhook_disable(wh, gone_reason, sptime_now_ms());
	else if (!dl->redelivery && settled)
		e = webhook_head_settle(wh);
	else if (!dl->redelivery)
		e = webhook_head_wait(wh, job->attempts, job->next_ms);
	if (!err)
		err = e;

	if (!err)
		err = whoutbox_record(db, wh->id, rec);
	if (!err && dl->redelivery && wh->enabled)
		err = whoutbox_redeliver_save(db, wh->id, job, settled);

	err = db_end(db, err);
	if (err)
		warning("httpctl: webhook %s: the state of event %s was not"
			" saved (%m): after a restart it may be sent again\n",
			wh->id, rec->event_id, err);
}


/* An attempt's result in the counters */
static void count(struct whdl *dl, const struct whd_record *rec,
		  bool settled, uint64_t now)
{
	struct whdeliver_stats *st = &dl->wd->stats;

	if (rec->state == WHD_DELIVERED) {
		++st->ok;
		dl->fails = 0;
		dl->last_ok_ms = now;
		return;
	}

	++st->failed;
	++dl->fails;
	dl->last_fail_ms = now;
	str_ncpy(dl->error, rec->error ? rec->error : "failed",
		 sizeof(dl->error));

	if (settled && rec->state == WHD_FAILED)
		++st->abandoned;
}


/*
 * The end of an attempt: status is the HTTP status (0: none), error why
 * it failed (NULL if it did not), retry_after the receiver's wish in ms
 */
static void attempt_done(struct whdl *dl, uint16_t status, const char *error,
			 uint64_t retry_after)
{
	struct webhook *wh = dl->wh;
	struct webhook_job job = dl->job;
	uint64_t now = sptime_now_ms(), wait = 0;
	struct whd_record rec;
	bool settled = false, gone = false;

	++job.attempts;

	memset(&rec, 0, sizeof(rec));
	rec.seq = job.seq;
	rec.event_id = dl->ev->id;
	rec.type = dl->ev->type;
	rec.attempt = job.attempts;
	rec.status = status;
	rec.error = error;
	rec.at_ms = dl->started_ms;
	rec.duration_ms = tmr_jiffies() - dl->started_mono;

	if (!error && status >= 200 && status < 300) {
		rec.state = WHD_DELIVERED;
		settled = true;
	}
	else if (!error && status == 410) {
		/* the receiver says it is gone for good: stop sending */
		rec.state = WHD_FAILED;
		rec.error = "410 Gone: the endpoint is disabled";
		gone = true;
	}
	else if (whretry_next(&wait, job.attempts, rand_u32(), retry_after)) {
		rec.state = WHD_PENDING;
		job.next_ms = now + wait;
		rec.next_ms = job.next_ms;
	}
	else {
		rec.state = WHD_FAILED;
		settled = true;
	}

	count(dl, &rec, settled, now);

	/* the state first, then act on it */
	outcome_save(dl, &rec, &job, settled, gone);

	if (!wh->enabled) {
		info("httpctl: webhook %s disabled: it answered 410 Gone to"
		     " event %s\n", wh->id, rec.event_id);
		publish_disabled(dl);
	}
	else if (rec.state == WHD_PENDING) {
		warning("httpctl: webhook %s: event %s (seq %llu%s) attempt"
			" %u of %u failed: %s; next in %llu s\n", wh->id,
			rec.event_id, (unsigned long long)rec.seq,
			dl->redelivery ? ", redelivery" : "", rec.attempt,
			WHRETRY_ATTEMPTS, error, (unsigned long long)(wait /
								      1000));
	}
	else if (rec.state == WHD_FAILED) {
		errlog("httpctl: webhook %s: event %s (seq %llu) failed for"
		       " good after %u attempts: %s\n", wh->id, rec.event_id,
		       (unsigned long long)rec.seq, rec.attempt, error);
	}
	else {
		debug("httpctl: webhook %s: event %s %s (HTTP %u)\n", wh->id,
		      rec.event_id, state_word(rec.state), status);
	}

	dl->ev = mem_deref(dl->ev);
	nudge(dl);
}


static void post_handler(int err, const char *why,
			 const struct whhttp_answer *ans, void *arg)
{
	struct whdl *dl = arg;
	uint64_t retry_after = 0;
	char text[160];

	dl->post = mem_deref(dl->post);

	if (err || !ans) {
		re_snprintf(text, sizeof(text), "%s",
			    why ? why : "no answer");
		attempt_done(dl, 0, text, 0);
		return;
	}

	if (pl_isset(&ans->retry_after) &&
	    whretry_after_decode(&ans->retry_after, sptime_now_ms(),
				 &retry_after))
		retry_after = 0;

	if ((ans->status >= 200 && ans->status < 300) || ans->status == 410) {
		attempt_done(dl, ans->status, NULL, 0);
		return;
	}

	re_snprintf(text, sizeof(text), "HTTP %u%s%s", ans->status,
		    str_isset(ans->reason) ? " " : "", ans->reason);
	attempt_done(dl, ans->status, text, retry_after);
}


static int post_start(struct whdl *dl)
{
	const struct webhook *wh = dl->wh;
	const struct whoutbox_event *ev = dl->ev;
	char sig[WHSIGN_SIG_LEN], id[64], tsh[48], sigh[80];
	const char *hdrv[4];
	struct whhttp_prm prm;
	uint64_t ts = dl->started_ms / 1000;
	size_t len = strlen(ev->json);
	int err;

	/* the body is the stored envelope, byte for byte */
	err = whsign_sign(sig, sizeof(sig), wh->secret, ev->id, ts,
			  (const uint8_t *)ev->json, len);
	if (err)
		return err;

	re_snprintf(id, sizeof(id), "webhook-id: %s", ev->id);
	re_snprintf(tsh, sizeof(tsh), "webhook-timestamp: %llu",
		    (unsigned long long)ts);
	re_snprintf(sigh, sizeof(sigh), "webhook-signature: %s", sig);
	hdrv[0] = "Content-Type: application/json";
	hdrv[1] = id;
	hdrv[2] = tsh;
	hdrv[3] = sigh;

	memset(&prm, 0, sizeof(prm));
	prm.url = wh->url;
	prm.hdrv = hdrv;
	prm.hdrc = ARRAY_SIZE(hdrv);
	prm.body = ev->json;
	prm.len = len;
	prm.timeout_ms = POST_TIMEOUT_MS;

	return whhttp_post(&dl->post, dl->wd->http, &prm, post_handler, dl);
}


/* The event of a job has left the log (it should not: the floor keeps
   it): nothing can be sent, so the job is settled */
static void event_gone(struct whdl *dl, const struct webhook_job *job,
		       bool redelivery)
{
	struct webhook *wh = dl->wh;
	struct sqlite3 *db = webhooks_db(wh->whs);
	int err;

	warning("httpctl: webhook %s: event seq %llu is no longer in the"
		" event log: skipped\n", wh->id, (unsigned long long)job->seq);

	if (redelivery)
		err = whoutbox_redeliver_save(db, wh->id, job, true);
	else
		err = webhook_head_settle(wh);

	if (err)
		later(dl, DB_RETRY_MS);
	else
		nudge(dl);
}


static void job_start(struct whdl *dl, const struct webhook_job *job,
		      bool redelivery)
{
	char text[96];
	int err;

	err = whoutbox_event_load(dl->wd->store, job->seq, &dl->ev);
	if (err == ENOENT) {
		event_gone(dl, job, redelivery);
		return;
	}
	if (err) {
		later(dl, DB_RETRY_MS);
		return;
	}

	dl->job = *job;
	dl->redelivery = redelivery;
	dl->started_ms = sptime_now_ms();
	dl->started_mono = tmr_jiffies();

	err = post_start(dl);
	if (err) {
		/* a URL we cannot send to is a failed attempt like any */
		re_snprintf(text, sizeof(text), "%s",
			    err == ENOTSUP ? "https is not available (no CA"
			    " file loaded)" : "could not send the request");
		attempt_done(dl, 0, text, 0);
	}
}


/* Decide what the endpoint does now: send what is due, or sleep until
   it is, or idle until an event comes */
static void run(struct whdl *dl)
{
	struct webhook *wh = dl->wh;
	struct sqlite3 *db = webhooks_db(wh->whs);
	uint64_t now = sptime_now_ms(), due = UINT64_MAX, seq, passed;
	struct webhook_job rj;
	bool redeliver;
	int err;

	if (dl->post || !wh->enabled || dl->dropping)
		return;

	if (!wh->head.seq) {
		err = whoutbox_scan(wh, SCAN_MAX, &seq, &passed);
		if (!err || err == ENOENT || err == EAGAIN)
			webhook_pass(wh, passed);
		if (err == EAGAIN) {
			/* a long way to read: go on in the next round of
			   the loop, not all at once */
			nudge(dl);
			return;
		}
		if (err && err != ENOENT) {
			later(dl, DB_RETRY_MS);
			return;
		}
		if (!err)
			webhook_head_set(wh, seq, now);
	}

	err = whoutbox_redeliver_next(db, wh->id, &rj);
	if (err && err != ENOENT) {
		later(dl, DB_RETRY_MS);
		return;
	}
	redeliver = !err;

	if (redeliver && rj.next_ms <= now) {
		job_start(dl, &rj, true);
		return;
	}

	if (wh->head.seq && wh->head.next_ms <= now) {
		job_start(dl, &wh->head, false);
		return;
	}

	if (redeliver)
		due = rj.next_ms;
	if (wh->head.seq)
		due = min(due, wh->head.next_ms);

	if (due != UINT64_MAX)
		later(dl, due - now);
	else
		tmr_cancel(&dl->tmr);
}


static void run_handler(void *arg)
{
	run(arg);
}


/* Endpoints with nothing to do look whether the new events are theirs */
static void nudge_idle(struct whdeliver *wd)
{
	struct le *le;

	for (le = list_head(webhooks_list(wd->whs)); le; le = le->next) {
		struct webhook *wh = le->data;

		if (wh->enabled && wh->dl && !wh->head.seq)
			nudge(wh->dl);
	}
}


static void stored_handler(void *arg)
{
	struct whdeliver *wd = arg;
	struct evstore_status st;

	evstore_status(wd->store, &st);
	if (st.pending)
		tmr_start(&wd->tmr_stored, STORED_WAIT_MS, stored_handler, wd);
	else
		nudge_idle(wd);
}


/* A new event: it is stored before subscribers hear of it, unless the
   store could not write it (a full disk): then it waits in the store's
   memory, and the endpoints look once it is written */
static void event_handler(const struct evbus_event *ev, void *arg)
{
	struct whdeliver *wd = arg;

	if (ev->seq <= evstore_last_seq(wd->store))
		nudge_idle(wd);
	else if (!tmr_isrunning(&wd->tmr_stored))
		tmr_start(&wd->tmr_stored, STORED_WAIT_MS, stored_handler, wd);
}


static uint64_t floor_handler(void *arg)
{
	struct whdeliver *wd = arg;

	return whoutbox_floor(wd->whs);
}


static void prune_handler(void *arg)
{
	struct whdeliver *wd = arg;

	tmr_start(&wd->tmr_prune, PRUNE_MS, prune_handler, wd);
	(void)whoutbox_prune(wd->store);
}


/*
 * Giving up what an endpoint owes beyond retention
 */

static bool beyond_handler(const struct evbus_event *ev, void *arg)
{
	const struct beyond *b = arg;

	return whretain_beyond(b->r, ev->seq, ev->time_ms, b->last_seq,
			       b->now);
}


/* Count what was given up into a pass (or a step of one) */
static void pass_merge(struct whoutbox_drop *pass,
		       const struct whoutbox_drop *d)
{
	if (!d->n)
		return;

	pass->first = pass->n ? min(pass->first, d->first) : d->first;
	pass->last = pass->n ? max(pass->last, d->last) : d->last;
	pass->n += d->n;
}


static void pass_add(struct whoutbox_drop *pass, uint64_t seq)
{
	struct whoutbox_drop one = {seq, 1, seq, seq};

	pass_merge(pass, &one);
}


/* A job (the head, or a redelivery) whose event is beyond is recorded
   as given up and settled; *droppedp says whether it was */
static int job_drop(struct whdl *dl, const struct webhook_job *job,
		    bool redelivery, const struct beyond *b, bool *droppedp)
{
	struct webhook *wh = dl->wh;
	struct sqlite3 *db = webhooks_db(wh->whs);
	struct whoutbox_event *ev = NULL;
	struct whd_record rec;
	int err;

	*droppedp = false;

	/* an event gone from the log is run()'s to settle */
	err = whoutbox_event_load(dl->wd->store, job->seq, &ev);
	if (err == ENOENT)
		return 0;
	if (err)
		return err;

	if (!whretain_beyond(b->r, ev->seq, ev->time_ms, b->last_seq,
			     b->now))
		goto out;

	memset(&rec, 0, sizeof(rec));
	rec.seq = ev->seq;
	rec.event_id = ev->id;
	rec.type = ev->type;
	rec.attempt = job->attempts + 1;
	rec.state = WHD_FAILED;
	rec.error = WHOUTBOX_DROPPED;
	rec.at_ms = b->now;

	err = whoutbox_record(db, wh->id, &rec);
	if (err)
		goto out;

	if (redelivery)
		err = whoutbox_redeliver_save(db, wh->id, job, true);
	else
		err = webhook_give_up(wh, job->seq);
	if (err)
		goto out;

	*droppedp = true;

 out:
	mem_deref(ev);

	return err;
}


/*
 * One step of giving up at an endpoint, in one transaction: its
 * redeliveries, its head, then the owed events after its cursor, each
 * while beyond. *givenp gets the count; EAGAIN: more to read.
 */
static int drop_step(struct whdl *dl, const struct beyond *b,
		     uint32_t *givenp)
{
	struct webhook *wh = dl->wh;
	struct sqlite3 *db = webhooks_db(wh->whs);
	struct whoutbox_drop step, d;
	struct webhook_job rj;
	bool dropped = true, more = false;
	int err;

	*givenp = 0;

	if (dl->post || !wh->enabled)
		return 0;

	err = db_begin(db);
	if (err)
		return err;

	memset(&step, 0, sizeof(step));

	while (!err && dropped) {
		err = whoutbox_redeliver_oldest(db, wh->id, &rj);
		if (!err)
			err = job_drop(dl, &rj, true, b, &dropped);
		if (!err && dropped)
			pass_add(&step, rj.seq);
	}
	if (err == ENOENT)
		err = 0;

	if (!err && wh->head.seq) {
		uint64_t seq = wh->head.seq;

		err = job_drop(dl, &wh->head, false, b, &dropped);
		if (!err && dropped)
			pass_add(&step, seq);
	}

	if (!err && !wh->head.seq) {
		err = whoutbox_drop(wh, SCAN_MAX, b->now, beyond_handler,
				    (void *)b, &d);
		more = err == EAGAIN;
		if (more)
			err = 0;
		if (!err)
			pass_merge(&step, &d);
		if (!err && d.through > wh->cursor)
			err = webhook_give_up(wh, d.through);
	}

	/* the cursor moved in memory even if this fails: what it passed is
	   given up all the same, and said so */
	err = db_end(db, err);
	if (err && step.n)
		warning("httpctl: webhook %s: the records of %u events given"
			" up (seq %llu to %llu) could not be written: %m\n",
			wh->id, step.n, (unsigned long long)step.first,
			(unsigned long long)step.last, err);

	pass_merge(&dl->pass, &step);
	*givenp = step.n;

	return err ? err : more ? EAGAIN : 0;
}


/* The end of an endpoint's pass: what it gave up, once, in the log;
   then it goes on from where it stands now */
static void pass_end(struct whdl *dl)
{
	struct whoutbox_drop *pass = &dl->pass;
	bool held = dl->dropping;

	dl->dropping = false;
	if (held || pass->n)
		nudge(dl);

	if (!pass->n)
		return;

	warning("httpctl: webhook %s: %u events (seq %llu to %llu) given up,"
		" not delivered: beyond httpctl_webhook_give_up or"
		" httpctl_webhook_backlog_max\n", dl->wh->id, pass->n,
		(unsigned long long)pass->first,
		(unsigned long long)pass->last);

	memset(pass, 0, sizeof(*pass));
}


static void retain_handler(void *arg)
{
	struct whdeliver *wd = arg;
	struct beyond b;
	bool more = false, given = false;
	struct le *le;

	b.r = &wd->retain;
	b.last_seq = evstore_last_seq(wd->store);
	b.now = sptime_now_ms();

	for (le = list_head(webhooks_list(wd->whs)); le; le = le->next) {
		struct webhook *wh = le->data;
		uint32_t n = 0;
		int err;

		if (!wh->dl)
			continue;

		err = drop_step(wh->dl, &b, &n);
		if (n) {
			wd->stats.dropped += n;
			wh->dl->dropped += n;
			given = true;
		}

		/* a long way to read: the next round of the loop goes on,
		   and no attempt starts meanwhile */
		if (err == EAGAIN) {
			wh->dl->dropping = true;
			more = true;
		}
		else {
			pass_end(wh->dl);
		}
	}

	/* what was given up no longer holds the log back */
	if (given)
		evstore_trim(wd->store);

	tmr_start(&wd->tmr_retain,
		  more ? 0 : whretain_interval_ms(&wd->retain),
		  retain_handler, wd);
}


static void whdeliver_destructor(void *arg)
{
	struct whdeliver *wd = arg;
	struct le *le;

	tmr_cancel(&wd->tmr_prune);
	tmr_cancel(&wd->tmr_retain);
	tmr_cancel(&wd->tmr_stored);
	evstore_set_floor_handler(wd->store, NULL, NULL);
	mem_deref(wd->sub);

	/* the endpoints may outlive us: take our state back from them */
	for (le = list_head(webhooks_list(wd->whs)); le; le = le->next) {
		struct webhook *wh = le->data;

		wh->dl = mem_deref(wh->dl);
	}

	mem_deref(wd->http);
	mem_deref(wd->whs);
	mem_deref(wd->bus);
	mem_deref(wd->store);
}


/**
 * Start the delivery engine: every endpoint resumes where it stood
 *
 * @param wdp  Returned engine
 * @param prm  Endpoints, bus, store and CA file
 *
 * @return 0 if success, otherwise errorcode
 */
int whdeliver_alloc(struct whdeliver **wdp, const struct whdeliver_prm *prm)
{
	struct whdeliver *wd;
	struct le *le;
	int err;

	if (!wdp || !prm || !prm->whs || !prm->bus || !prm->store ||
	    !prm->ca)
		return EINVAL;

	wd = mem_zalloc(sizeof(*wd), whdeliver_destructor);
	if (!wd)
		return ENOMEM;

	tmr_init(&wd->tmr_prune);
	tmr_init(&wd->tmr_retain);
	tmr_init(&wd->tmr_stored);
	if (prm->retain)
		wd->retain = *prm->retain;
	else
		(void)whretain_cfg_read(&wd->retain, NULL);
	wd->whs = mem_ref(prm->whs);
	wd->bus = mem_ref(prm->bus);
	wd->store = mem_ref(prm->store);

	err = whoutbox_init(webhooks_db(wd->whs));
	if (err)
		goto out;

	err = whhttp_alloc(&wd->http, prm->ca);
	if (err)
		goto out;

	err = evbus_subscribe(&wd->sub, wd->bus, event_handler, wd);
	if (err)
		goto out;

	for (le = list_head(webhooks_list(wd->whs)); le; le = le->next) {
		err = dl_attach(wd, le->data);
		if (err)
			goto out;
		nudge(((struct webhook *)le->data)->dl);
	}

	evstore_set_floor_handler(wd->store, floor_handler, wd);
	tmr_start(&wd->tmr_prune, PRUNE_MS, prune_handler, wd);
	tmr_start(&wd->tmr_retain, 0, retain_handler, wd);

 out:
	if (err)
		mem_deref(wd);
	else
		*wdp = wd;

	return err;
}


/**
 * Something changed for an endpoint (created, a redelivery queued):
 * let it look at its queue
 *
 * @return 0 if success, otherwise errorcode
 */
int whdeliver_kick(struct whdeliver *wd, struct webhook *wh)
{
	int err;

	if (!wd || !wh)
		return EINVAL;

	err = dl_attach(wd, wh);
	if (err)
		return err;

	nudge(wh->dl);

	return 0;
}


/**
 * Send an event to an endpoint again (POST .../retry), whatever became
 * of it: the pending head is made due now, any other event is queued out
 * of band with its own attempts
 *
 * @param wd        Engine
 * @param wh        Endpoint
 * @param event_id  The event, which must have a delivery record there
 * @param err       Why not
 *
 * @return 0 if success, otherwise errorcode (err says why)
 */
int whdeliver_retry(struct whdeliver *wd, struct webhook *wh,
		    const char *event_id, struct sp_err *err)
{
	struct sqlite3 *db;
	struct whoutbox_event *ev = NULL;
	uint64_t seq = 0, now = sptime_now_ms();
	int e;

	if (!wd || !wh || !event_id)
		return EINVAL;

	if (!wh->enabled)
		return sp_err_set(err, 409, "webhook_disabled",
				  "webhook %s is disabled", wh->id);

	db = webhooks_db(wh->whs);
	e = whoutbox_record_seq(db, wh->id, event_id, &seq);
	if (e == ENOENT)
		return sp_err_set(err, 404, "delivery_not_found",
				  "webhook %s has no delivery of event %s",
				  wh->id, event_id);
	if (!e)
		e = whoutbox_event_load(wd->store, seq, &ev);
	if (e == ENOENT)
		return sp_err_set(err, 404, "event_not_found",
				  "event %s is no longer in the event log",
				  event_id);
	mem_deref(ev);
	if (e)
		goto fail;

	if (seq == wh->head.seq)
		e = webhook_head_due(wh, now);
	else
		e = whoutbox_redeliver_add(db, wh->id, seq, now);
	if (!e)
		e = whdeliver_kick(wd, wh);
	if (e)
		goto fail;

	info("httpctl: webhook %s: event %s (seq %llu) to be sent again\n",
	     wh->id, event_id, (unsigned long long)seq);

	return 0;

 fail:
	return sp_err_set(err, 500, "internal_error",
			  "could not queue the redelivery: %m", e);
}


/**
 * Publish a webhook.test event {"webhook": id} and send it to this
 * endpoint only (POST .../test)
 *
 * @param wd       Engine
 * @param wh       Endpoint
 * @param resultp  Returned {"webhook", "event_id", "seq"}
 * @param err      Why not
 *
 * @return 0 if success, otherwise errorcode (err says why)
 */
int whdeliver_test(struct whdeliver *wd, struct webhook *wh,
		   json_t **resultp, struct sp_err *err)
{
	struct whoutbox_event *ev = NULL;
	struct sqlite3 *db;
	uint64_t seq;
	int e;

	if (!wd || !wh || !resultp)
		return EINVAL;

	if (!wh->enabled)
		return sp_err_set(err, 409, "webhook_disabled",
				  "webhook %s is disabled", wh->id);

	e = evbus_publish(wd->bus, "webhook.test",
			  json_pack("{s:s}", "webhook", wh->id));
	if (e)
		goto fail;

	/* the event as stored: one the log could not write (a full disk)
	   cannot be sent, as its redelivery could not be queued either */
	db = webhooks_db(wh->whs);
	seq = evbus_last_seq(wd->bus);
	if (seq > evstore_last_seq(wd->store))
		return sp_err_set(err, 503, "event_log_unavailable",
				  "the event log cannot be written now (see"
				  " GET /api/v1/health): the test event was"
				  " published but is not sent");

	e = whoutbox_event_load(wd->store, seq, &ev);
	if (!e && strcmp(ev->type, "webhook.test"))
		e = EPROTO;
	if (!e)
		e = whoutbox_redeliver_add(db, wh->id, seq,
					   sptime_now_ms());
	if (!e)
		e = whdeliver_kick(wd, wh);
	if (e)
		goto fail;

	*resultp = json_pack("{s:s, s:s, s:I}", "webhook", wh->id,
			     "event_id", ev->id, "seq", (json_int_t)seq);
	mem_deref(ev);
	if (!*resultp)
		return sp_err_set(err, 500, "internal_error",
				  "out of memory");

	return 0;

 fail:
	mem_deref(ev);
	return sp_err_set(err, 500, "internal_error",
			  "could not send a test event: %m", e);
}


/** Is an attempt of this endpoint's in flight now? */
bool whdeliver_in_flight(const struct webhook *wh)
{
	return wh && wh->dl && wh->dl->post;
}


/** Delivery attempts since start */
void whdeliver_stats(const struct whdeliver *wd, struct whdeliver_stats *st)
{
	if (!st)
		return;

	if (wd)
		*st = wd->stats;
	else
		memset(st, 0, sizeof(*st));
}


/** An endpoint's recent attempts (all zero before its first) */
void whdeliver_ep(const struct webhook *wh, struct whdeliver_ep *ep)
{
	const struct whdl *dl;

	if (!ep)
		return;

	memset(ep, 0, sizeof(*ep));
	if (!wh || !wh->dl)
		return;

	dl = wh->dl;
	ep->fails = dl->fails;
	ep->error = dl->fails ? dl->error : NULL;
	ep->last_ok_ms = dl->last_ok_ms;
	ep->last_fail_ms = dl->last_fail_ms;
	ep->dropped = dl->dropped;
}
