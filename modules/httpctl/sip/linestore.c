/**
 * @file linestore.c  Line bindings kept across restarts
 *
 * An HT802 re-registers only when its expiry runs out (an hour by
 * default), so a restart that forgot the bindings would leave the phone
 * unreachable for that long. Each line is a row of the `lines` table in
 * the event store's database, written whenever the line changes (a new
 * binding, a refresh, an unregister, an expiry) and deleted when the
 * line is forgotten; line.c reads the rows back at start.
 *
 * Times are unix ms, so that a binding's end means the same after a
 * restart: what is left of it is its end minus the time now.
 *
 * Threads: main thread only (the database connection is the store's).
 */

#include <sqlite3.h>
#include "sipphone.h"
#include "sip/sip.h"


static const char schema[] =
	"CREATE TABLE IF NOT EXISTS lines ("
	" id TEXT PRIMARY KEY,"
	" registered INTEGER NOT NULL,"
	" contact TEXT,"                  /* as the phone sent it      */
	" source TEXT,"                   /* "ip:port" of its REGISTER */
	" transport TEXT,"                /* "udp", "tcp", ...         */
	" user_agent TEXT,"
	" expires INTEGER NOT NULL,"      /* granted, s                */
	" expires_at INTEGER NOT NULL,"   /* the binding's end         */
	" registered_at INTEGER NOT NULL,"
	" last_register_at INTEGER NOT NULL,"
	" unregistered_at INTEGER NOT NULL);";


/**
 * Make the table if need be
 *
 * @param db  The event store's database
 *
 * @return 0 if success, otherwise errorcode
 */
int linestore_open(struct sqlite3 *db)
{
	return db ? db_exec(db, schema) : EINVAL;
}


/* The binding's end, unix ms; 0 if not registered */
static uint64_t end_of(const struct line *line)
{
	uint64_t now = tmr_jiffies();

	if (!line->registered)
		return 0;

	return sptime_now_ms() +
		(line->expires_at > now ? line->expires_at - now : 0);
}


/**
 * Write a line as it is now
 *
 * @param db    The event store's database
 * @param line  Line
 *
 * @return 0 if success, otherwise errorcode (logged)
 */
int linestore_save(struct sqlite3 *db, const struct line *line)
{
	sqlite3_stmt *st;
	char src[64] = "";
	int err;

	if (!db || !line)
		return EINVAL;

	if (sa_isset(&line->src, SA_ADDR))
		(void)re_snprintf(src, sizeof(src), "%J", &line->src);

	err = db_prepare(db, &st, "INSERT OR REPLACE INTO lines (id,"
			 " registered, contact, source, transport, user_agent,"
			 " expires, expires_at, registered_at,"
			 " last_register_at, unregistered_at)"
			 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (err)
		return err;

	db_bind_text(st, 1, line->id);
	db_bind_u64(st, 2, line->registered);
	db_bind_text(st, 3, line->contact);
	db_bind_text(st, 4, src[0] ? src : NULL);
	db_bind_text(st, 5, line->contact ? sip_transp_name(line->tp) : NULL);
	db_bind_text(st, 6, line->user_agent);
	db_bind_u64(st, 7, line->expires);
	db_bind_u64(st, 8, end_of(line));
	db_bind_u64(st, 9, line->registered_at);
	db_bind_u64(st, 10, line->last_register_at);
	db_bind_u64(st, 11, line->unregistered_at);

	return db_done(db, st, "saving a line");
}


/**
 * Delete a line's row
 *
 * @param db  The event store's database
 * @param id  Line id
 *
 * @return 0 if success, otherwise errorcode (logged)
 */
int linestore_delete(struct sqlite3 *db, const char *id)
{
	sqlite3_stmt *st;
	int err;

	if (!db || !id)
		return EINVAL;

	err = db_prepare(db, &st, "DELETE FROM lines WHERE id = ?");
	if (err)
		return err;

	db_bind_text(st, 1, id);

	return db_done(db, st, "deleting a line");
}


static enum sip_transp transp_decode(const char *name)
{
	static const enum sip_transp tpv[] = {
		SIP_TRANSP_UDP, SIP_TRANSP_TCP, SIP_TRANSP_TLS,
		SIP_TRANSP_WS, SIP_TRANSP_WSS,
	};
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(tpv); i++) {
		if (0 == str_casecmp(name, sip_transp_name(tpv[i])))
			return tpv[i];
	}

	return SIP_TRANSP_NONE;
}


/* A row read off the table, kept until the table is no longer read */
struct row_copy {
	struct le le;
	struct linestore_row row;
	char *id;
	char *contact;
	char *user_agent;
};


static void row_copy_destructor(void *arg)
{
	struct row_copy *rc = arg;

	list_unlink(&rc->le);
	mem_deref(rc->id);
	mem_deref(rc->contact);
	mem_deref(rc->user_agent);
}


/* One row, checked and copied; EBADMSG if it holds no binding */
static int row_read(struct list *rowl, sqlite3_stmt *st)
{
	const char *id = db_col_str(st, 0);
	const char *contact = (const char *)sqlite3_column_text(st, 2);
	const char *src = (const char *)sqlite3_column_text(st, 3);
	const char *ua = (const char *)sqlite3_column_text(st, 5);
	struct linestore_row *row;
	struct row_copy *rc;
	int err;

	rc = mem_zalloc(sizeof(*rc), row_copy_destructor);
	if (!rc)
		return ENOMEM;

	row = &rc->row;
	row->registered = sqlite3_column_int(st, 1) != 0;
	row->tp = transp_decode((const char *)sqlite3_column_text(st, 4));
	row->expires = (uint32_t)min(db_col_u64(st, 6), (uint64_t)UINT32_MAX);
	row->expires_at = db_col_u64(st, 7);
	row->registered_at = db_col_u64(st, 8);
	row->last_register_at = db_col_u64(st, 9);
	row->unregistered_at = db_col_u64(st, 10);

	/* a row we did not write this way is no binding to restore (the
	   id is shown as it is: it must be UTF-8, as JSON is) */
	if (!str_isset(id) || !utf8_valid(id) || !str_isset(contact) ||
	    !src ||
	    sa_decode(&row->src, src, strlen(src)) ||
	    row->tp == SIP_TRANSP_NONE) {
		warning("httpctl: lines: row '%s' holds no binding:"
			" skipped\n", id ? id : "");
		err = EBADMSG;
		goto out;
	}

	err  = str_dup(&rc->id, id);
	err |= str_dup(&rc->contact, contact);
	err |= str_dup(&rc->user_agent, ua ? ua : "");
	if (err)
		goto out;

	row->id = rc->id;
	row->contact = rc->contact;
	row->user_agent = rc->user_agent;
	list_append(rowl, &rc->le, rc);

 out:
	if (err)
		mem_deref(rc);

	return err;
}


/**
 * Read every line back, registered ones first, newest first
 *
 * A row that does not hold a binding (damaged, or not ours) is skipped
 * with a log line; the line's next REGISTER writes over it. The rows are
 * read to the end before the first handler runs, so that it may write
 * to the table.
 *
 * @param db    The event store's database
 * @param rowh  Called for each row (its strings live during the call);
 *              an error stops the reading and is returned
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int linestore_load(struct sqlite3 *db, linestore_row_h *rowh, void *arg)
{
	struct list rowl = LIST_INIT;
	sqlite3_stmt *st;
	struct le *le;
	int rc, err;

	if (!db || !rowh)
		return EINVAL;

	err = db_prepare(db, &st, "SELECT id, registered, contact, source,"
			 " transport, user_agent, expires, expires_at,"
			 " registered_at, last_register_at, unregistered_at"
			 " FROM lines ORDER BY registered DESC,"
			 " last_register_at DESC");
	if (err)
		return err;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		err = row_read(&rowl, st);
		if (err == ENOMEM)
			break;
		err = 0;
	}
	if (!err && rc != SQLITE_DONE)
		err = db_err(db, "loading lines", rc);

	sqlite3_finalize(st);

	for (le = list_head(&rowl); le && !err; le = le->next) {
		const struct row_copy *c = le->data;

		err = rowh(&c->row, arg);
	}

	list_flush(&rowl);

	return err;
}
