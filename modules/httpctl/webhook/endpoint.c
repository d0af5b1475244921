/**
 * @file endpoint.c  Webhook endpoints: the table, filters, URLs
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
 * Filters: an exact type ("call.ended"), a prefix wildcard ("call.*")
 * or "*". webhook.test is never matched by a filter: a test goes only
 * to the endpoint it was asked for (see deliver.c).
 *
 * Threads: main thread only (the database connection is the store's).
 */

#include <sqlite3.h>
#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	WEBHOOKS_MAX = 100,    /* endpoints in all                     */
	FILTERS_MAX = 64,      /* filters of one endpoint              */
	FILTER_LEN_MAX = 128,
	DESC_LEN_MAX = 256,
	URL_LEN_MAX = 2048,
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

static const char webhook_test[] = "webhook.test";


/*
 * Filters
 */

static bool type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}


/* "call.ended": lowercase words joined by single dots */
static bool type_valid(const char *s, size_t len)
{
	size_t i;

	if (!len || s[0] == '.' || s[len - 1] == '.')
		return false;

	for (i = 0; i < len; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !type_char(s[i]))
			return false;
	}

	return true;
}


/**
 * Is this a filter: an exact type, "prefix.*" or "*"?
 */
bool webhook_filter_valid(const char *f)
{
	size_t len = str_len(f);

	if (!len || len > FILTER_LEN_MAX)
		return false;

	if (0 == strcmp(f, "*"))
		return true;

	if (len > 2 && 0 == strcmp(f + len - 2, ".*"))
		return type_valid(f, len - 2);

	return type_valid(f, len);
}


static bool filter_match(const char *f, const char *type)
{
	size_t len = strlen(f);

	if (0 == strcmp(f, "*"))
		return true;

	/* "call.*" is the prefix "call." */
	if (len > 2 && f[len - 1] == '*')
		return 0 == strncmp(f, type, len - 1);

	return 0 == strcmp(f, type);
}


/**
 * Does an endpoint want events of this type?
 *
 * @param wh    Endpoint
 * @param type  Event type
 *
 * @return true if one of its filters matches (never for webhook.test)
 */
bool webhook_matches(const struct webhook *wh, const char *type)
{
	size_t i;

	if (!wh || !type || 0 == strcmp(type, webhook_test))
		return false;

	for (i = 0; i < json_array_size(wh->events); i++) {
		const char *f = json_string_value(json_array_get(wh->events,
								 i));

		if (f && filter_match(f, type))
			return true;
	}

	return false;
}


/*
 * URLs
 */

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}


static const char *port_decode(struct webhook_url *u, const char *p,
			       const char *end)
{
	uint32_t port = 0;
	const char *q;

	if (p == end)
		return "the URL has an empty port";

	for (q = p; q < end; q++) {
		if (*q < '0' || *q > '9' || q - p >= 5)
			return "the URL's port is not a number from 1 to"
				" 65535";
		port = port * 10 + (uint32_t)(*q - '0');
	}

	if (!port || port > 65535)
		return "the URL's port is not a number from 1 to 65535";

	u->port = (uint16_t)port;

	return NULL;
}


/* host, [v6] or host:port, [v6]:port */
static const char *authority_decode(struct webhook_url *u, const char *p,
				    const char *end)
{
	const char *colon = NULL, *q;
	struct sa sa;

	u->hostport.p = p;
	u->hostport.l = (size_t)(end - p);

	if (memchr(p, '@', (size_t)(end - p)))
		return "credentials in the URL are not supported";

	if (p < end && *p == '[') {
		q = memchr(p, ']', (size_t)(end - p));
		if (!q)
			return "the URL's IPv6 address has no ']'";

		u->host.p = p + 1;
		u->host.l = (size_t)(q - p - 1);
		if (sa_set(&sa, &u->host, 0) || sa_af(&sa) != AF_INET6)
			return "the URL's IPv6 address is not valid";

		if (q + 1 < end && q[1] != ':')
			return "the URL's host is not valid";
		colon = q + 1 < end ? q + 1 : NULL;
	}
	else {
		for (q = p; q < end && *q != ':'; q++) {
			if (!host_char(*q))
				return "the URL's host has a character a"
					" host name cannot have";
		}

		u->host.p = p;
		u->host.l = (size_t)(q - p);
		colon = q < end ? q : NULL;
	}

	if (!u->host.l)
		return "the URL has no host";

	if (colon)
		return port_decode(u, colon + 1, end);

	return NULL;
}


/**
 * Split a webhook URL: http or https, a host, at most 2048 characters
 *
 * @param u     Returned parts; they point into url
 * @param url   The URL
 * @param whyp  Returned reason when it is refused (a static string)
 *
 * @return 0 if it is a URL we can deliver to, otherwise EINVAL
 */
int webhook_url_decode(struct webhook_url *u, const char *url,
		       const char **whyp)
{
	const char *why = NULL, *p, *end, *frag;
	size_t len = str_len(url), i;

	if (!u || !url)
		return EINVAL;

	memset(u, 0, sizeof(*u));

	for (i = 0; i < len && !why; i++) {
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			why = "the URL has a space or a control character";
	}

	if (why)
		goto out;

	if (!len) {
		why = "the URL is empty";
		goto out;
	}

	if (len > URL_LEN_MAX) {
		why = "the URL is longer than 2048 characters";
		goto out;
	}

	if (0 == strncasecmp(url, "https://", 8)) {
		u->tls = true;
		u->port = 443;
		p = url + 8;
	}
	else if (0 == strncasecmp(url, "http://", 7)) {
		u->port = 80;
		p = url + 7;
	}
	else {
		why = "the URL must start with http:// or https://";
		goto out;
	}

	/* a fragment never leaves the client */
	frag = strchr(p, '#');
	end = frag ? frag : url + len;

	for (i = 0; p + i < end && !strchr("/?", p[i]); i++)
		;

	why = authority_decode(u, p, p + i);
	if (why)
		goto out;

	/* path and query; an empty path is "/" when sent */
	u->path.p = p + i;
	u->path.l = (size_t)(end - (p + i));

 out:
	if (whyp)
		*whyp = why;

	return why ? EINVAL : 0;
}


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

	events = (const char *)sqlite3_column_text(st, 4);
	wh->events = events ? json_loads(events, 0, NULL) : NULL;
	if (!wh->id || !wh->url || !wh->secret ||
	    !json_is_array(wh->events)) {
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


static int create_check(const json_t *args, struct sp_err *err)
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

	e = create_check(args, err);
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
