/**
 * @file outbox.c  The durable webhook outbox: what each endpoint still
 *                   owes, what each attempt did
 *
 * There is no copy of an event per endpoint. The event log is the
 * outbox; an endpoint owes every event after its cursor that its filters
 * match. This file reads the log for the delivery engine, through the
 * store (evstore_each: the log's table is core's), and keeps two tables
 * beside it in the store's database:
 *
 *   deliveries     one row per endpoint and event: the latest attempt
 *                  (upserted at each one), for GET .../deliveries
 *   attempts       every attempt of a delivery, the newest
 *                  WHD_ATTEMPTS_KEPT only: each one written deletes the
 *                  oldest beyond them, in the same transaction
 *   redeliveries   events asked for again (retry, test), out of band,
 *                  each with its own attempt count and due time
 *
 * Threads: main thread only (the database connection is the store's).
 */

#include <sqlite3.h>
#include "sipphone.h"
#include "webhook/webhook.h"


static const char schema[] =
	"CREATE TABLE IF NOT EXISTS deliveries ("
	" webhook TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" event_id TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" attempt INTEGER NOT NULL,"
	" state TEXT NOT NULL,"
	" status_code INTEGER,"
	" error TEXT,"
	" at_ms INTEGER NOT NULL,"
	" next_ms INTEGER,"
	" PRIMARY KEY (webhook, seq));"
	"CREATE INDEX IF NOT EXISTS deliveries_at"
	" ON deliveries (webhook, at_ms);"
	"CREATE TABLE IF NOT EXISTS attempts ("
	" id INTEGER PRIMARY KEY,"        /* grows: newer is larger    */
	" webhook TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" at_ms INTEGER NOT NULL,"
	" status_code INTEGER,"
	" error TEXT,"
	" duration_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS attempts_of"
	" ON attempts (webhook, seq, id);"
	"CREATE TABLE IF NOT EXISTS redeliveries ("
	" webhook TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL,"
	" next_ms INTEGER NOT NULL,"
	" PRIMARY KEY (webhook, seq));";


/** Make the outbox tables if need be */
int whoutbox_init(struct sqlite3 *db)
{
	return db_exec(db, schema);
}


/** Drop an endpoint's outbox rows (inside webhook_delete's transaction) */
int whoutbox_forget(struct sqlite3 *db, const char *webhook)
{
	static const char *const sqlv[] = {
		"DELETE FROM deliveries WHERE webhook = ?",
		"DELETE FROM attempts WHERE webhook = ?",
		"DELETE FROM redeliveries WHERE webhook = ?",
	};
	sqlite3_stmt *st = NULL;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(sqlv) && !err; i++) {
		err = db_prepare(db, &st, sqlv[i]);
		if (err)
			break;
		db_bind_text(st, 1, webhook);
		err = db_done(db, st, "deleting outbox rows");
	}

	return err;
}


/*
 * The one walk of what an endpoint owes: the events after its cursor
 * that its filters match, oldest first, read through the store
 */

/* An owed event (valid during the call); true stops the walk */
typedef bool (owed_h)(const struct evbus_event *ev, void *arg);

struct owed {
	const struct webhook *wh;
	owed_h *h;
	void *arg;
	size_t read;           /* events read, owed or not             */
	bool found;            /* an owed event was read               */
	uint64_t passed;       /* owed to no one up to this seq        */
};


static bool owed_handler(const struct evbus_event *ev, void *arg)
{
	struct owed *ow = arg;

	++ow->read;

	if (!webhook_matches(ow->wh, ev->type)) {
		if (!ow->found)
			ow->passed = ev->seq;
		return false;
	}

	ow->found = true;

	return ow->h(ev, ow->arg);
}


/*
 * Walk what an endpoint owes, reading at most max events of the log;
 * passedp (may be NULL) gets the seq up to which the events read before
 * the first owed one are owed to no one (the cursor if none).
 * EAGAIN: max events were read, there may be more.
 */
static int owed_each(const struct webhook *wh, size_t max, owed_h *h,
		     void *arg, uint64_t *passedp)
{
	struct owed ow;
	int err;

	memset(&ow, 0, sizeof(ow));
	ow.wh = wh;
	ow.h = h;
	ow.arg = arg;
	ow.passed = wh->cursor;

	err = evstore_each(webhooks_store(wh->whs), wh->cursor, max,
			   owed_handler, &ow);
	if (err)
		return err;

	if (passedp)
		*passedp = ow.passed;

	return ow.read == max ? EAGAIN : 0;
}


static bool first_handler(const struct evbus_event *ev, void *arg)
{
	uint64_t *seqp = arg;

	*seqp = ev->seq;

	return true;
}


/**
 * Find the next event an endpoint owes: the first after its cursor that
 * its filters match
 *
 * @param wh       Endpoint
 * @param max      Read at most this many events
 * @param seqp     Returned seq of the event found
 * @param passedp  Returned seq up to which the events read are owed to
 *                 no one (its cursor may move there)
 *
 * @return 0 if found, ENOENT if none is owed, EAGAIN if max events were
 *         read without finding one (call again), otherwise errorcode
 */
int whoutbox_scan(const struct webhook *wh, size_t max, uint64_t *seqp,
		  uint64_t *passedp)
{
	uint64_t seq = 0;
	int err;

	if (!wh || !seqp || !passedp)
		return EINVAL;

	err = owed_each(wh, max, first_handler, &seq, passedp);
	if (seq) {
		*seqp = seq;
		return 0;
	}

	return err ? err : ENOENT;
}


struct backlog {
	size_t n;
	uint64_t oldest;       /* unix ms of the first                 */
};


static bool count_handler(const struct evbus_event *ev, void *arg)
{
	struct backlog *bl = arg;

	if (!bl->n++)
		bl->oldest = ev->time_ms;

	return false;
}


/**
 * Count the events an endpoint owes, and tell when the oldest came
 *
 * @param wh       Endpoint
 * @param max      Read at most this many events of the log
 * @param np       Returned count
 * @param oldestp  Returned unix ms of the oldest owed event, 0 if none
 *                 (may be NULL)
 *
 * @return 0 if success, EAGAIN if max events were read (np is a lower
 *         bound), otherwise errorcode
 */
int whoutbox_backlog(const struct webhook *wh, size_t max, size_t *np,
		     uint64_t *oldestp)
{
	struct backlog bl = {0, 0};
	int err;

	if (!wh || !np)
		return EINVAL;

	err = owed_each(wh, max, count_handler, &bl, NULL);

	*np = bl.n;
	if (oldestp)
		*oldestp = bl.oldest;

	return err;
}


/*
 * Giving up what retention lets go (retain.c decides, deliver.c acts)
 */

struct drop {
	struct sqlite3 *db;
	const struct webhook *wh;
	whoutbox_beyond_h *beyondh;
	void *arg;
	uint64_t now;
	size_t read;
	bool stopped;          /* an event was not beyond: done        */
	struct whoutbox_drop *d;
	int err;
};


static bool drop_handler(const struct evbus_event *ev, void *arg)
{
	struct drop *dr = arg;
	struct whd_record rec;

	++dr->read;

	if (!dr->beyondh(ev, dr->arg)) {
		dr->stopped = true;
		return true;
	}

	if (webhook_matches(dr->wh, ev->type)) {
		memset(&rec, 0, sizeof(rec));
		rec.seq = ev->seq;
		rec.event_id = ev->id;
		rec.type = ev->type;
		rec.attempt = 1;
		rec.state = WHD_FAILED;
		rec.error = WHOUTBOX_DROPPED;
		rec.at_ms = dr->now;

		dr->err = whoutbox_record(dr->db, dr->wh->id, &rec);
		if (dr->err)
			return true;

		if (!dr->d->n++)
			dr->d->first = ev->seq;
		dr->d->last = ev->seq;
	}

	dr->d->through = ev->seq;

	return false;
}


/**
 * Give up the events after an endpoint's cursor that are beyond what it
 * may owe, oldest first, up to the first that is not: each one it owes
 * gets a delivery record "failed" whose attempt says WHOUTBOX_DROPPED.
 * Part of the caller's transaction; the caller moves the cursor to
 * d->through. For an endpoint with no event at its head.
 *
 * @param wh       Endpoint
 * @param max      Read at most this many events of the log
 * @param now_ms   Unix ms, the time of the records
 * @param beyondh  Says whether an event is beyond (retain.c)
 * @param arg      Its argument
 * @param d        Returned: how far, how many, which
 *
 * @return 0 if success, EAGAIN if max events were read (call again),
 *         otherwise errorcode
 */
int whoutbox_drop(const struct webhook *wh, size_t max, uint64_t now_ms,
		  whoutbox_beyond_h *beyondh, void *arg,
		  struct whoutbox_drop *d)
{
	struct drop dr;
	int err;

	if (!wh || !beyondh || !d)
		return EINVAL;

	memset(d, 0, sizeof(*d));
	d->through = wh->cursor;

	memset(&dr, 0, sizeof(dr));
	dr.db = webhooks_db(wh->whs);
	dr.wh = wh;
	dr.beyondh = beyondh;
	dr.arg = arg;
	dr.now = now_ms;
	dr.d = d;

	err = evstore_each(webhooks_store(wh->whs), wh->cursor, max,
			   drop_handler, &dr);
	if (!err)
		err = dr.err;
	if (err)
		return err;

	return !dr.stopped && dr.read == max ? EAGAIN : 0;
}


static void event_destructor(void *arg)
{
	struct whoutbox_event *ev = arg;

	mem_deref(ev->id);
	mem_deref(ev->type);
	mem_deref(ev->json);
}


struct load {
	uint64_t seq;
	struct whoutbox_event *ev;
	int err;
};


static bool load_handler(const struct evbus_event *e, void *arg)
{
	struct load *ld = arg;
	struct whoutbox_event *ev;

	/* the first event after seq - 1: another one if seq is gone */
	if (e->seq != ld->seq)
		return true;

	ev = mem_zalloc(sizeof(*ev), event_destructor);
	if (!ev) {
		ld->err = ENOMEM;
		return true;
	}

	ev->seq = e->seq;
	ev->time_ms = e->time_ms;
	ld->err  = str_dup(&ev->id, e->id);
	ld->err |= str_dup(&ev->type, e->type);
	ld->err |= str_dup(&ev->json, e->json);
	if (ld->err)
		mem_deref(ev);
	else
		ld->ev = ev;

	return true;
}


/**
 * Read one event of the log
 *
 * @param es   The event store
 * @param seq  Its seq
 * @param evp  Returned event (mem_deref it)
 *
 * @return 0 if success, ENOENT if the log no longer holds it
 */
int whoutbox_event_load(struct evstore *es, uint64_t seq,
			struct whoutbox_event **evp)
{
	struct load ld = {seq, NULL, 0};
	int err;

	if (!es || !seq || !evp)
		return EINVAL;

	err = evstore_each(es, seq - 1, 1, load_handler, &ld);
	if (!err)
		err = ld.err;
	if (!err && !ld.ev)
		err = ENOENT;

	if (!err)
		*evp = ld.ev;

	return err;
}


static const char *state_name(enum whd_state st)
{
	switch (st) {

	case WHD_DELIVERED: return "delivered";
	case WHD_FAILED:    return "failed";
	default:            return "pending";
	}
}


/* Add an attempt to a delivery's history, and let go of the oldest
   beyond WHD_ATTEMPTS_KEPT */
static int attempt_add(struct sqlite3 *db, const char *webhook,
		       const struct whd_record *rec)
{
	sqlite3_stmt *st = NULL;
	int err;

	err = db_prepare(db, &st, "INSERT INTO attempts (webhook, seq,"
			 " at_ms, status_code, error, duration_ms)"
			 " VALUES (?, ?, ?, ?, ?, ?)");
	if (err)
		return err;

	db_bind_text(st, 1, webhook);
	db_bind_u64(st, 2, rec->seq);
	db_bind_u64(st, 3, rec->at_ms);
	if (rec->status)
		sqlite3_bind_int(st, 4, rec->status);
	db_bind_text(st, 5, rec->error);
	db_bind_u64(st, 6, rec->duration_ms);

	err = db_done(db, st, "recording an attempt");
	if (err)
		return err;

	err = db_prepare(db, &st, "DELETE FROM attempts WHERE webhook = ?1"
			 " AND seq = ?2 AND id NOT IN (SELECT id FROM attempts"
			 " WHERE webhook = ?1 AND seq = ?2"
			 " ORDER BY id DESC LIMIT ?3)");
	if (err)
		return err;

	db_bind_text(st, 1, webhook);
	db_bind_u64(st, 2, rec->seq);
	sqlite3_bind_int(st, 3, WHD_ATTEMPTS_KEPT);

	return db_done(db, st, "trimming the attempts");
}


/**
 * Write an attempt of an event at an endpoint: the delivery record
 * (insert or replace: the latest attempt) and the attempt's line in its
 * history; part of the caller's transaction
 *
 * @return 0 if success, otherwise errorcode
 */
int whoutbox_record(struct sqlite3 *db, const char *webhook,
		    const struct whd_record *rec)
{
	sqlite3_stmt *st = NULL;
	int err;

	if (!db || !webhook || !rec)
		return EINVAL;

	err = db_prepare(db, &st, "INSERT OR REPLACE INTO deliveries"
			 " (webhook, seq, event_id, type, attempt, state,"
			 " status_code, error, at_ms, next_ms)"
			 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (err)
		return err;

	db_bind_text(st, 1, webhook);
	db_bind_u64(st, 2, rec->seq);
	db_bind_text(st, 3, rec->event_id);
	db_bind_text(st, 4, rec->type);
	sqlite3_bind_int(st, 5, (int)rec->attempt);
	db_bind_text(st, 6, state_name(rec->state));
	if (rec->status)
		sqlite3_bind_int(st, 7, rec->status);
	if (rec->error)
		db_bind_text(st, 8, rec->error);
	db_bind_u64(st, 9, rec->at_ms);
	if (rec->next_ms)
		db_bind_u64(st, 10, rec->next_ms);

	err = db_done(db, st, "recording a delivery");
	if (err)
		return err;

	return attempt_add(db, webhook, rec);
}


static json_t *col_int_or_null(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();

	return json_integer(sqlite3_column_int64(st, col));
}


static json_t *col_text_or_null(sqlite3_stmt *st, int col)
{
	return jx_str((const char *)sqlite3_column_text(st, col));
}


static json_t *record_encode(sqlite3_stmt *st, json_t *attempts)
{
	return json_pack("{s:s, s:I, s:s, s:i, s:s, s:o, s:o, s:o, s:o,"
			 " s:o}",
			 "event_id", (const char *)sqlite3_column_text(st, 0),
			 "seq", (json_int_t)sqlite3_column_int64(st, 1),
			 "type", (const char *)sqlite3_column_text(st, 2),
			 "attempt", sqlite3_column_int(st, 3),
			 "state", (const char *)sqlite3_column_text(st, 4),
			 "status_code", col_int_or_null(st, 5),
			 "error", col_text_or_null(st, 6),
			 "at", jx_time(db_col_u64(st, 7)),
			 "next_attempt_at", jx_time(db_col_u64(st, 8)),
			 "attempts", attempts);
}


/* A delivery's attempts, newest first; sta is reused for each record */
static int attempts_encode(json_t **arrp, struct sqlite3 *db,
			   sqlite3_stmt *sta, const char *webhook,
			   uint64_t seq)
{
	json_t *arr = json_array();
	int rc, err = 0;

	if (!arr)
		return ENOMEM;

	db_bind_text(sta, 1, webhook);
	db_bind_u64(sta, 2, seq);

	while ((rc = sqlite3_step(sta)) == SQLITE_ROW) {
		json_t *a = json_pack("{s:o, s:o, s:o, s:I}",
				      "at", jx_time(db_col_u64(sta, 0)),
				      "status_code", col_int_or_null(sta, 1),
				      "error", col_text_or_null(sta, 2),
				      "duration_ms",
				      (json_int_t)db_col_u64(sta, 3));

		if (json_array_append_new(arr, a)) {
			err = ENOMEM;
			break;
		}
	}
	if (!err && rc != SQLITE_DONE)
		err = db_err(db, "reading attempts", rc);

	sqlite3_reset(sta);

	if (err)
		json_decref(arr);
	else
		*arrp = arr;

	return err;
}


/**
 * An endpoint's delivery records, the latest attempt first, each with
 * its attempts (newest first)
 *
 * @param db       Database
 * @param webhook  Endpoint id
 * @param limit    At most this many
 * @param arrp     Returned JSON array
 *
 * @return 0 if success, otherwise errorcode
 */
int whoutbox_records(struct sqlite3 *db, const char *webhook, size_t limit,
		     json_t **arrp)
{
	sqlite3_stmt *st = NULL, *sta = NULL;
	json_t *arr;
	int rc, err;

	if (!db || !webhook || !arrp)
		return EINVAL;

	arr = json_array();
	if (!arr)
		return ENOMEM;

	err = db_prepare(db, &st, "SELECT event_id, seq, type, attempt,"
			 " state, status_code, error, at_ms, next_ms"
			 " FROM deliveries WHERE webhook = ?"
			 " ORDER BY at_ms DESC, seq DESC LIMIT ?");
	if (!err)
		err = db_prepare(db, &sta, "SELECT at_ms, status_code, error,"
				 " duration_ms FROM attempts WHERE webhook = ?"
				 " AND seq = ? ORDER BY id DESC LIMIT ?");
	if (err)
		goto out;

	db_bind_text(st, 1, webhook);
	db_bind_u64(st, 2, limit);
	sqlite3_bind_int(sta, 3, WHD_ATTEMPTS_KEPT);

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *attempts = NULL;

		err = attempts_encode(&attempts, db, sta, webhook,
				      db_col_u64(st, 1));
		if (err)
			break;

		if (json_array_append_new(arr, record_encode(st, attempts))) {
			err = ENOMEM;
			break;
		}
	}
	if (!err && rc != SQLITE_DONE)
		err = db_err(db, "reading deliveries", rc);

 out:
	sqlite3_finalize(st);
	sqlite3_finalize(sta);
	if (err)
		json_decref(arr);
	else
		*arrp = arr;

	return err;
}


/**
 * The seq of an event that has a delivery record at an endpoint
 *
 * @return 0 if success, ENOENT if there is no such record
 */
int whoutbox_record_seq(struct sqlite3 *db, const char *webhook,
			const char *event_id, uint64_t *seqp)
{
	sqlite3_stmt *st = NULL;
	int rc, err;

	if (!db || !webhook || !event_id || !seqp)
		return EINVAL;

	err = db_prepare(db, &st, "SELECT seq FROM deliveries"
			 " WHERE webhook = ? AND event_id = ?");
	if (err)
		return err;

	db_bind_text(st, 1, webhook);
	db_bind_text(st, 2, event_id);

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seqp = db_col_u64(st, 0);
	else if (rc == SQLITE_DONE)
		err = ENOENT;
	else
		err = db_err(db, "reading a delivery", rc);

	sqlite3_finalize(st);

	return err;
}


/**
 * Queue an event to be sent to an endpoint again, out of band, due now;
 * one asked for while queued starts over
 *
 * @return 0 if success, otherwise errorcode
 */
int whoutbox_redeliver_add(struct sqlite3 *db, const char *webhook,
			   uint64_t seq, uint64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int err;

	if (!db || !webhook || !seq)
		return EINVAL;

	err = db_prepare(db, &st, "INSERT OR REPLACE INTO redeliveries"
			 " (webhook, seq, attempts, next_ms)"
			 " VALUES (?, ?, 0, ?)");
	if (err)
		return err;

	db_bind_text(st, 1, webhook);
	db_bind_u64(st, 2, seq);
	db_bind_u64(st, 3, now_ms);

	return db_done(db, st, "queueing a redelivery");
}


/* The first redelivery of an endpoint in this order */
static int redeliver_first(struct sqlite3 *db, const char *webhook,
			   const char *order, struct webhook_job *job)
{
	sqlite3_stmt *st = NULL;
	char sql[128];
	int rc, err;

	if (!db || !webhook || !job)
		return EINVAL;

	re_snprintf(sql, sizeof(sql), "SELECT seq, attempts, next_ms"
		    " FROM redeliveries WHERE webhook = ?"
		    " ORDER BY %s, seq LIMIT 1", order);

	err = db_prepare(db, &st, sql);
	if (err)
		return err;

	db_bind_text(st, 1, webhook);

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		job->seq = db_col_u64(st, 0);
		job->attempts = (uint32_t)db_col_u64(st, 1);
		job->next_ms = db_col_u64(st, 2);
	}
	else if (rc == SQLITE_DONE) {
		err = ENOENT;
	}
	else {
		err = db_err(db, "reading redeliveries", rc);
	}

	sqlite3_finalize(st);

	return err;
}


/**
 * The redelivery of an endpoint due first
 *
 * @return 0 if success, ENOENT if none is queued
 */
int whoutbox_redeliver_next(struct sqlite3 *db, const char *webhook,
			    struct webhook_job *job)
{
	return redeliver_first(db, webhook, "next_ms", job);
}


/**
 * The queued redelivery of an endpoint with the oldest event
 *
 * @return 0 if success, ENOENT if none is queued
 */
int whoutbox_redeliver_oldest(struct sqlite3 *db, const char *webhook,
			      struct webhook_job *job)
{
	return redeliver_first(db, webhook, "seq", job);
}


/**
 * Write a redelivery's state after an attempt, or drop it when settled;
 * part of the caller's transaction
 *
 * @return 0 if success, otherwise errorcode
 */
int whoutbox_redeliver_save(struct sqlite3 *db, const char *webhook,
			    const struct webhook_job *job, bool settled)
{
	sqlite3_stmt *st = NULL;
	int err;

	if (!db || !webhook || !job)
		return EINVAL;

	err = db_prepare(db, &st, settled
			 ? "DELETE FROM redeliveries"
			   " WHERE webhook = ?1 AND seq = ?2"
			 : "UPDATE redeliveries SET attempts = ?3,"
			   " next_ms = ?4 WHERE webhook = ?1 AND seq = ?2");
	if (err)
		return err;

	db_bind_text(st, 1, webhook);
	db_bind_u64(st, 2, job->seq);
	if (!settled) {
		db_bind_u64(st, 3, job->attempts);
		db_bind_u64(st, 4, job->next_ms);
	}

	return db_done(db, st, "saving a redelivery");
}


/**
 * The oldest event any enabled endpoint still owes, for the event log's
 * retention: the lowest cursor + 1, or queued redelivery
 *
 * @return that seq, or UINT64_MAX if no endpoint needs any
 */
uint64_t whoutbox_floor(struct webhooks *whs)
{
	uint64_t floor = UINT64_MAX;
	sqlite3_stmt *st = NULL;
	struct le *le;
	sqlite3 *db;

	for (le = list_head(webhooks_list(whs)); le; le = le->next) {
		const struct webhook *wh = le->data;

		if (wh->enabled)
			floor = min(floor, wh->cursor + 1);
	}

	db = webhooks_db(whs);
	if (!db || db_prepare(db, &st, "SELECT webhook, MIN(seq)"
			      " FROM redeliveries GROUP BY webhook"))
		return floor;

	/* a disabled endpoint's queued redeliveries are owed to no one */
	while (sqlite3_step(st) == SQLITE_ROW) {
		const struct webhook *wh = webhooks_find(whs,
				(const char *)sqlite3_column_text(st, 0));

		if (wh && wh->enabled)
			floor = min(floor, db_col_u64(st, 1));
	}

	sqlite3_finalize(st);

	return floor;
}


/**
 * Forget the delivery records of events the log no longer holds (the
 * log's retention decides how long a record is kept), but for the
 * newest WHOUTBOX_RECORDS_KEPT of each endpoint: what became of its
 * last events (dropped by retention, say) can be read after they left
 * the log. Attempts go with their record.
 *
 * @param es  The event store, whose database holds the records
 *
 * @return 0 if success, otherwise errorcode
 */
int whoutbox_prune(struct evstore *es)
{
	struct sqlite3 *db = evstore_db(es);
	sqlite3_stmt *st = NULL;
	uint64_t first = 0;
	int n = 0, err;

	err = evstore_each(es, 0, 1, first_handler, &first);
	if (err || !first)
		return err;

	err = db_begin(db);
	if (err)
		return err;

	err = db_prepare(db, &st, "DELETE FROM deliveries WHERE seq < ?1"
			 " AND rowid NOT IN (SELECT rowid FROM (SELECT rowid,"
			 " row_number() OVER (PARTITION BY webhook"
			 " ORDER BY at_ms DESC, seq DESC) AS n"
			 " FROM deliveries) WHERE n <= ?2)");
	if (err)
		goto out;

	db_bind_u64(st, 1, first);
	sqlite3_bind_int(st, 2, WHOUTBOX_RECORDS_KEPT);

	err = db_done(db, st, "pruning delivery records");
	if (err)
		goto out;

	n = sqlite3_changes(db);

	err = db_exec(db, "DELETE FROM attempts WHERE NOT EXISTS (SELECT 1"
		      " FROM deliveries d WHERE d.webhook = attempts.webhook"
		      " AND d.seq = attempts.seq)");

 out:
	err = db_end(db, err);
	if (!err && n)
		debug("httpctl: webhooks: pruned %d delivery records\n", n);

	return err;
}
