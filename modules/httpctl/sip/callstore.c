/**
 * @file callstore.c  The calls that are live, kept in case we die with them
 *
 * baresip's calls do not outlive the process. If it dies (a crash, kill
 * -9, a power cut) during a call, no one ever says that call ended, and
 * every consumer that saw call.incoming or call.answered waits forever.
 * So each live call is a row of the `calls_live` table in the event
 * store's database, from its first event to its last: at start, a row
 * left over is a call the last run died with (calls.c ends it then).
 *
 * A clean stop ends its calls itself (reason "shutdown") and leaves no
 * row. While calls are live their rows are stamped every few seconds
 * (alive_at), so that a call cut by a crash is said to have lasted until
 * about the crash, not until the restart.
 *
 * Threads: main thread only (the database connection is the store's).
 */

#include <sqlite3.h>
#include "sipphone.h"
#include "sip/sip.h"


static const char schema[] =
	"CREATE TABLE IF NOT EXISTS calls_live ("
	" id TEXT PRIMARY KEY,"
	" line TEXT NOT NULL,"
	" direction TEXT NOT NULL,"       /* from_phone | to_phone     */
	" started_at INTEGER NOT NULL,"   /* unix ms                   */
	" answered_at INTEGER NOT NULL,"  /* 0: not answered           */
	" dialed TEXT,"
	" from_uri TEXT,"
	" alive_at INTEGER NOT NULL);";   /* last seen alive           */


/**
 * Make the table if need be
 *
 * @param db  The event store's database
 *
 * @return 0 if success, otherwise errorcode
 */
int callstore_open(struct sqlite3 *db)
{
	return db ? db_exec(db, schema) : EINVAL;
}


/**
 * Write a live call as it is now
 *
 * @param db   The event store's database
 * @param pc   The call
 * @param now  Unix ms now
 *
 * @return 0 if success, otherwise errorcode (logged)
 */
int callstore_save(struct sqlite3 *db, const struct pcall *pc, uint64_t now)
{
	sqlite3_stmt *st;
	int err;

	if (!db || !pc)
		return EINVAL;

	err = db_prepare(db, &st, "INSERT OR REPLACE INTO calls_live (id,"
			 " line, direction, started_at, answered_at, dialed,"
			 " from_uri, alive_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (err)
		return err;

	db_bind_text(st, 1, pc->id);
	db_bind_text(st, 2, pc->line);
	db_bind_text(st, 3, pcall_dir_name(pc->dir));
	db_bind_u64(st, 4, pc->started_at);
	db_bind_u64(st, 5, pc->answered_at);
	db_bind_text(st, 6, pc->dialed);
	db_bind_text(st, 7, pc->from);
	db_bind_u64(st, 8, now);

	return db_done(db, st, "saving a live call");
}


/**
 * Stamp every live call as alive now
 *
 * @param db   The event store's database
 * @param now  Unix ms now
 *
 * @return 0 if success, otherwise errorcode (logged)
 */
int callstore_alive(struct sqlite3 *db, uint64_t now)
{
	sqlite3_stmt *st;
	int err;

	if (!db)
		return EINVAL;

	err = db_prepare(db, &st, "UPDATE calls_live SET alive_at = ?");
	if (err)
		return err;

	db_bind_u64(st, 1, now);

	return db_done(db, st, "stamping live calls");
}


/**
 * A call ended: its row goes
 *
 * @param db  The event store's database
 * @param id  API id of the call
 *
 * @return 0 if success, otherwise errorcode (logged)
 */
int callstore_remove(struct sqlite3 *db, const char *id)
{
	sqlite3_stmt *st;
	int err;

	if (!db || !id)
		return EINVAL;

	err = db_prepare(db, &st, "DELETE FROM calls_live WHERE id = ?");
	if (err)
		return err;

	db_bind_text(st, 1, id);

	return db_done(db, st, "removing a live call");
}


/**
 * Read every row back, oldest call first
 *
 * @param db    The event store's database
 * @param rowh  Called for each row (its strings live during the call);
 *              an error stops the reading and is returned
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int callstore_load(struct sqlite3 *db, callstore_row_h *rowh, void *arg)
{
	struct callstore_row row;
	sqlite3_stmt *st;
	int rc, err;

	if (!db || !rowh)
		return EINVAL;

	err = db_prepare(db, &st, "SELECT id, line, direction, started_at,"
			 " answered_at, dialed, from_uri, alive_at"
			 " FROM calls_live ORDER BY started_at, rowid");
	if (err)
		return err;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *dir = (const char *)sqlite3_column_text(st, 2);

		row.id = db_col_str(st, 0);
		row.line = (const char *)sqlite3_column_text(st, 1);
		row.dir = 0 == str_cmp(dir, pcall_dir_name(PCALL_TO_PHONE))
			? PCALL_TO_PHONE : PCALL_FROM_PHONE;
		row.started_at = db_col_u64(st, 3);
		row.answered_at = db_col_u64(st, 4);
		row.dialed = (const char *)sqlite3_column_text(st, 5);
		row.from = (const char *)sqlite3_column_text(st, 6);
		row.alive_at = db_col_u64(st, 7);

		/* a row we did not write is no call to end (its id and
		   line are shown as they are: UTF-8, as JSON is) */
		if (!str_isset(row.id) || !str_isset(row.line) ||
		    !utf8_valid(row.id) || !utf8_valid(row.line)) {
			warning("httpctl: calls: a live call's row is"
				" damaged: skipped\n");
			continue;
		}

		err = rowh(&row, arg);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = db_err(db, "loading live calls", rc);

	sqlite3_finalize(st);

	return err;
}
