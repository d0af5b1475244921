/**
 * @file endpoint.c  Webhook endpoints: the table and where each stands
 *
 * An endpoint is a URL, the event types it wants, a secret to sign with
 * and where its delivery stands. The rows live in the `webhooks` table
 * of the event store's database, so an endpoint outlives a restart with
 * its place in the event log (cursor) and the state of the event at the
 * head of its queue; this file keeps the same rows in memory and writes
 * every change through. Where delivery stands changes only through the
 * verbs of this file (webhook_head_settle() and the others): the
 * delivery engine says what happened, this file keeps the state.
 *
 * A new endpoint is checked here, by a pure function of the request
 * (webhooks_create_check()): its filters (filter.c) and its URL (url.c,
 * what the HTTP client can send to).
 *
 * Threads: main thread only (the database connection is the store's).
 */

#include <sqlite3.h>
#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	WEBHOOKS_MAX = 100,    /* endpoints in all                     */
	FILTERS_MAX = 64,      /* filters of one endpoint              */
	DESC_LEN_MAX = 256,
};

struct webhooks {
	struct list whl;       /* struct webhook, oldest first         */
	struct evstore *store; /* its database holds our tables        */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS webhooks ("
	" id TEXT PRIMARY KEY,"
	" url TEXT NOT NULL,"
	" secret TEXT NOT NULL,"
	" description TEXT,"
	" events TEXT NOT NULL,"          /* JSON array of filters    */
	" enabled INTEGER NOT NULL,"
	" created_ms INTEGER NOT NULL,"
	" disabled_ms INTEGER NOT NULL DEFAULT 0,"
	" disabled_reason TEXT,"
	" cursor INTEGER NOT NULL,"       /* settled up to this seq   */
	" head_seq INTEGER NOT NULL DEFAULT 0,"
	" head_attempts INTEGER NOT NULL DEFAULT 0,"
	" head_next_ms INTEGER NOT NULL DEFAULT 0);";

/*
 * Endpoints
 */

static void webhook_destructor(void *arg)
{
	struct webhook *wh = arg;

	/* the delivery state first: it may hold a request to this URL */
	mem_deref(wh->dl);
	list_unlink(&wh->le);
	mem_deref(wh->id);
	mem_deref(wh->url);
	mem_deref(wh->secret);
	mem_deref(wh->description);
	mem_deref(wh->disabled_reason);
	json_decref(wh->events);
}


static void webhooks_destructor(void *arg)
{
	struct webhooks *whs = arg;

	list_flush(&whs->whl);
	mem_deref(whs->store);
}


/* One row of the webhooks table */
static int row_load(struct webhooks *whs, sqlite3_stmt *st)
{
	struct webhook *wh;
	const char *events;
	int err;

	wh = mem_zalloc(sizeof(*wh), webhook_destructor);
	if (!wh)
		return ENOMEM;

	wh->whs = whs;
	err  = db_col_dup(&wh->id, st, 0);
	err |= db_col_dup(&wh->url, st, 1);
	err |= db_col_dup(&wh->secret, st, 2);
	err |= db_col_dup(&wh->description, st, 3);
	err |= db_col_dup(&wh->disabled_reason, st, 8);
	if (err)
		goto out;

	/* what the API shows must be UTF-8, as JSON is */
	events = (const char *)sqlite3_column_text(st, 4);
	wh->events = events ? json_loads(events, 0, NULL) : NULL;
	if (!utf8_valid(wh->id) || !utf8_valid(wh->url) || !wh->secret ||
	    !json_is_array(wh->events) ||
	    (wh->description && !utf8_valid(wh->description)) ||
	    (wh->disabled_reason && !utf8_valid(wh->disabled_reason))) {
		warning("httpctl: webhooks: a row is damaged: skipped\n");
		err = EBADMSG;
		goto out;
	}

	wh->enabled = sqlite3_column_int(st, 5) != 0;
	wh->created_ms = db_col_u64(st, 6);
	wh->disabled_ms = db_col_u64(st, 7);
	wh->cursor = db_col_u64(st, 9);
	wh->head.seq = db_col_u64(st, 10);
	wh->head.attempts = (uint32_t)db_col_u64(st, 11);
	wh->head.next_ms = db_col_u64(st, 12);

	list_append(&whs->whl, &wh->le, wh);

 out:
	if (err)
		mem_deref(wh);

	return err;
}


static int load(struct webhooks *whs)
{
	sqlite3 *db = evstore_db(whs->store);
	sqlite3_stmt *st = NULL;
	int rc, err;

	err = db_prepare(db, &st, "SELECT id, url, secret, description,"
			 " events, enabled, created_ms, disabled_ms,"
			 " disabled_reason, cursor, head_seq,"
			 " head_attempts, head_next_ms FROM webhooks"
			 " ORDER BY created_ms, rowid");
	if (err)
		return err;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		err = row_load(whs, st);
		if (err == ENOMEM)
			break;
		err = 0;
	}
	if (!err && rc != SQLITE_DONE)
		err = db_err(db, "loading webhooks", rc);

	sqlite3_finalize(st);

	return err;
}


/**
 * Open the webhook endpoints: make the table if need be, load the rows
 *
 * @param whsp   Returned endpoints
 * @param store  The event store, whose database keeps the table
 *
 * @return 0 if success, otherwise errorcode
 */
int webhooks_alloc(struct webhooks **whsp, struct evstore *store)
{
	struct webhooks *whs;
	int err;

	if (!whsp || !evstore_db(store))
		return EINVAL;

	whs = mem_zalloc(sizeof(*whs), webhooks_destructor);
	if (!whs)
		return ENOMEM;

	whs->store = mem_ref(store);

	err = db_exec(evstore_db(store), schema);
	if (err)
		goto out;

	err = load(whs);
	if (err)
		goto out;

	if (!list_isempty(&whs->whl))
		info("httpctl: %u webhook endpoints\n",
		     list_count(&whs->whl));

 out:
	if (err)
		mem_deref(whs);
	else
		*whsp = whs;

	return err;
}


/** The endpoints, oldest first */
struct list *webhooks_list(struct webhooks *whs)
{
	return whs ? &whs->whl : NULL;
}


/** The database the webhook tables are in */
struct sqlite3 *webhooks_db(const struct webhooks *whs)
{
	return whs ? evstore_db(whs->store) : NULL;
}


/** The event store: its log is what the endpoints are sent */
struct evstore *webhooks_store(const struct webhooks *whs)
{
	return whs ? whs->store : NULL;
}


/** The endpoint with this id, or NULL */
struct webhook *webhooks_find(const struct webhooks *whs, const char *id)
{
	struct le *le;

	if (!whs || !id)
		return NULL;

	for (le = list_head(&whs->whl); le; le = le->next) {
		struct webhook *wh = le->data;

		if (0 == strcmp(wh->id, id))
			return wh;
	}

	return NULL;
}


static int insert(struct webhooks *whs, const struct webhook *wh)
{
	sqlite3 *db = evstore_db(whs->store);
	sqlite3_stmt *st = NULL;
	char *events = NULL;
	int err;

	err = jx_dumps(&events, wh->events);
	if (err)
		return err;

	err = db_prepare(db, &st, "INSERT INTO webhooks (id, url, secret,"
			 " description, events, enabled, created_ms,"
			 " cursor) VALUES (?, ?, ?, ?, ?, 1, ?, ?)");
	if (err)
		goto out;

	db_bind_text(st, 1, wh->id);
	db_bind_text(st, 2, wh->url);
	db_bind_text(st, 3, wh->secret);
	db_bind_text(st, 4, wh->description);
	db_bind_text(st, 5, events);
	db_bind_u64(st, 6, wh->created_ms);
	db_bind_u64(st, 7, wh->cursor);

	err = db_done(db, st, "storing a webhook");

 out:
	mem_deref(events);

	return err;
}


/* The filters of a request, checked: a non-empty array of strings */
static int events_check(const json_t *jevents, struct sp_err *err)
{
	size_t i, n = json_array_size(jevents);

	if (!json_is_array(jevents) || !n)
		return sp_err_set(err, 400, "invalid_field",
				  "\"events\" must be a non-empty array of"
				  " event types, e.g. [\"call.*\"]");

	if (n > FILTERS_MAX)
		return sp_err_set(err, 400, "invalid_field",
				  "\"events\" has more than %d filters",
				  FILTERS_MAX);

	for (i = 0; i < n; i++) {
		const json_t *f = json_array_get(jevents, i);

		if (!json_is_string(f))
			return sp_err_set(err, 400, "invalid_field",
					  "\"events\"[%zu] must be a string",
					  i);

		if (!webhook_filter_valid(json_string_value(f)))
			return sp_err_set(err, 400, "invalid_field",
					  "\"events\"[%zu] is not an event"
					  " type (\"call.ended\"), a prefix"
					  " wildcard (\"call.*\") or \"*\"",
					  i);
	}

	return 0;
}


/**
 * Check a request to create an endpoint: {"url", "events",
 * "description"}; nothing is looked up, nothing changes
 *
 * @param args  The request (any JSON value; a non-object has no fields)
 * @param err   Why not
 *
 * @return 0 if it may be created, otherwise errorcode (err says why)
 */
int webhooks_create_check(const json_t *args, struct sp_err *err)
{
	const json_t *jurl = json_object_get(args, "url");
	const json_t *jdesc = json_object_get(args, "description");
	struct webhook_url u;
	const char *why;

	if (!json_is_string(jurl))
		return sp_err_set(err, 400, "invalid_field",
				  "\"url\" must be a string");

	if (webhook_url_decode(&u, json_string_value(jurl), &why))
		return sp_err_set(err, 400, "invalid_field",
				  "\"url\": %s", why);

	if (jdesc && !json_is_null(jdesc) &&
	    (!json_is_string(jdesc) ||
	     json_string_length(jdesc) > DESC_LEN_MAX))
		return sp_err_set(err, 400, "invalid_field",
				  "\"description\" must be a string of at"
				  " most %d bytes", DESC_LEN_MAX);

	return events_check(json_object_get(args, "events"), err);
}


/**
 * Create an endpoint from a request: {"url", "events", "description"}
 *
 * @param whs     Endpoints
 * @param args    The request object
 * @param cursor  Deliver events after this seq (the newest, usually)
 * @param whp     Returned endpoint (owned by whs)
 * @param err     Why not
 *
 * @return 0 if success, otherwise errorcode (err says why)
 */
int webhooks_create(struct webhooks *whs, const json_t *args,
		    uint64_t cursor, struct webhook **whp, struct sp_err *err)
{
	const json_t *jdesc = json_object_get(args, "description");
	struct webhook *wh;
	int e;

	if (!whs || !args || !whp)
		return EINVAL;

	e = webhooks_create_check(args, err);
	if (e)
		return e;

	if (list_count(&whs->whl) >= WEBHOOKS_MAX)
		return sp_err_set(err, 409, "too_many_webhooks",
				  "there are %d webhooks already: delete"
				  " one first", WEBHOOKS_MAX);

	wh = mem_zalloc(sizeof(*wh), webhook_destructor);
	if (!wh)
		return sp_err_set(err, 500, "internal_error",
				  "out of memory");

	wh->whs = whs;
	wh->enabled = true;
	wh->created_ms = sptime_now_ms();
	wh->cursor = cursor;
	wh->events = json_deep_copy(json_object_get(args, "events"));

	e  = randid_alloc(&wh->id, "wh_", 10);
	e |= str_dup(&wh->url, json_string_value(json_object_get(args,
								 "url")));
	e |= whsign_secret_new(&wh->secret);
	if (json_is_string(jdesc))
		e |= str_dup(&wh->description, json_string_value(jdesc));
	if (e || !wh->events) {
		e = sp_err_set(err, 500, "internal_error",
			       "could not make the webhook");
		goto out;
	}

	e = insert(whs, wh);
	if (e) {
		sp_err_set(err, 500, "internal_error",
			   "could not store the webhook: %m", e);
		goto out;
	}

	list_append(&whs->whl, &wh->le, wh);

	/* the URL may carry a token of the receiver's: the id is enough */
	info("httpctl: webhook %s created (%u filters)\n", wh->id,
	     (unsigned)json_array_size(wh->events));

 out:
	if (e)
		mem_deref(wh);
	else
		*whp = wh;

	return e;
}


/*
 * Delivery state: enabled, disabled_ms/_reason, cursor and head change
 * here and nowhere else. A verb that changes what must survive a
 * restart writes the row before it returns (inside the caller's
 * transaction if one is open); memory changes even if the write fails,
 * so the engine acts on what happened, and the caller says what a lost
 * write means.
 */

/* Write the endpoint's delivery state to its row */
static int state_save(const struct webhook *wh)
{
	sqlite3 *db = evstore_db(wh->whs->store);
	sqlite3_stmt *st = NULL;
	int err;

	err = db_prepare(db, &st, "UPDATE webhooks SET enabled = ?,"
			 " disabled_ms = ?, disabled_reason = ?,"
			 " cursor = ?, head_seq = ?, head_attempts = ?,"
			 " head_next_ms = ? WHERE id = ?");
	if (err)
		return err;

	sqlite3_bind_int(st, 1, wh->enabled);
	db_bind_u64(st, 2, wh->disabled_ms);
	db_bind_text(st, 3, wh->disabled_reason);
	db_bind_u64(st, 4, wh->cursor);
	db_bind_u64(st, 5, wh->head.seq);
	db_bind_u64(st, 6, wh->head.attempts);
	db_bind_u64(st, 7, wh->head.next_ms);
	db_bind_text(st, 8, wh->id);

	return db_done(db, st, "saving a webhook");
}


/**
 * The events up to seq are owed to no one (a scan read past them): the
 * cursor moves there while no event is at the head. In memory only:
 * after a restart they are read again, which costs a scan and loses
 * nothing.
 */
void webhook_pass(struct webhook *wh, uint64_t seq)
{
	if (wh && !wh->head.seq && seq > wh->cursor)
		wh->cursor = seq;
}


/**
 * An event becomes the head, with no attempt yet, due at due_ms. In
 * memory only: until its first attempt is written, a restart finds it
 * again by a scan.
 */
void webhook_head_set(struct webhook *wh, uint64_t seq, uint64_t due_ms)
{
	if (!wh || !seq || seq <= wh->cursor)
		return;

	wh->head.seq = seq;
	wh->head.attempts = 0;
	wh->head.next_ms = due_ms;
}


/**
 * The head is settled (delivered, failed for good, or gone from the
 * log): the cursor takes its place and the head is empty; saved
 *
 * @return 0 if success, otherwise errorcode
 */
int webhook_head_settle(struct webhook *wh)
{
	if (!wh || !wh->head.seq)
		return EINVAL;

	wh->cursor = wh->head.seq;
	memset(&wh->head, 0, sizeof(wh->head));

	return state_save(wh);
}


/**
 * An attempt at the head failed: attempts made so far, and when the
 * next is due; saved
 *
 * @return 0 if success, otherwise errorcode
 */
int webhook_head_wait(struct webhook *wh, uint32_t attempts,
		      uint64_t next_ms)
{
	if (!wh || !wh->head.seq)
		return EINVAL;

	wh->head.attempts = attempts;
	wh->head.next_ms = next_ms;

	return state_save(wh);
}


/**
 * Make the head due now (a retry asked for it); saved
 *
 * @return 0 if success, otherwise errorcode
 */
int webhook_head_due(struct webhook *wh, uint64_t now_ms)
{
	if (!wh || !wh->head.seq)
		return EINVAL;

	wh->head.next_ms = now_ms;

	return state_save(wh);
}


/**
 * The events up to seq are given up (retention let them go): the
 * cursor moves there, and a head at or before it goes; saved
 *
 * @return 0 if success, otherwise errorcode
 */
int webhook_give_up(struct webhook *wh, uint64_t seq)
{
	if (!wh)
		return EINVAL;

	if (wh->head.seq && wh->head.seq <= seq)
		memset(&wh->head, 0, sizeof(wh->head));

	wh->cursor = max(wh->cursor, seq);

	return state_save(wh);
}


/**
 * Disable an endpoint for good (it answered 410 Gone): it gets nothing
 * more; its cursor and head stay as they were; saved
 *
 * @param wh      Endpoint
 * @param reason  Why, as the API shows it
 * @param now_ms  Unix ms
 *
 * @return 0 if success, otherwise errorcode
 */
int webhook_disable(struct webhook *wh, const char *reason, uint64_t now_ms)
{
	if (!wh || !reason)
		return EINVAL;

	wh->enabled = false;
	wh->disabled_ms = now_ms;
	wh->disabled_reason = mem_deref(wh->disabled_reason);
	if (str_dup(&wh->disabled_reason, reason))
		warning("httpctl: webhook %s: out of memory for the reason"
			" it is disabled\n", wh->id);

	return state_save(wh);
}


/**
 * Delete an endpoint, its row and its outbox rows; wh is freed
 *
 * @return 0 if success, otherwise errorcode (wh is kept)
 */
int webhook_delete(struct webhook *wh)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int err;

	if (!wh)
		return EINVAL;

	db = evstore_db(wh->whs->store);
	err = db_begin(db);
	if (err)
		return err;

	err = db_prepare(db, &st, "DELETE FROM webhooks WHERE id = ?");
	if (!err) {
		db_bind_text(st, 1, wh->id);
		err = db_done(db, st, "deleting a webhook");
	}
	if (!err)
		err = whoutbox_forget(db, wh->id);

	err = db_end(db, err);
	if (err)
		return err;

	info("httpctl: webhook %s deleted\n", wh->id);
	mem_deref(wh);

	return 0;
}


/** The endpoint as the API shows it: never its secret */
json_t *webhook_encode(const struct webhook *wh)
{
	if (!wh)
		return NULL;

	return json_pack("{s:s, s:s, s:o, s:O, s:b, s:o, s:o, s:o}",
			 "id", wh->id,
			 "url", wh->url,
			 "description", jx_str(wh->description),
			 "events", wh->events,
			 "enabled", wh->enabled,
			 "created_at", jx_time(wh->created_ms),
			 "disabled_at", jx_time(wh->disabled_ms),
			 "disabled_reason", jx_str(wh->disabled_reason));
}
