/**
 * @file db.c  SQL helpers for every table in the event store's database
 *
 * The store owns the database (evstore.c); others keep tables in it
 * beside the event log (the webhook endpoints and their outbox). They
 * all run statements the same way, through these: an SQLite failure is
 * logged once, with what was being done, and becomes an errno code; a
 * transaction is begun and ended in one way; numbers and strings go in
 * and out of columns in one way.
 *
 * Threads: main thread only (the connection is the store's).
 */

#include <sqlite3.h>
#include "sipphone.h"


/*
 * A full or failing disk fails every write the same way, and some writes
 * come with every SIP request: the log gets the first DB_LOG_LINES
 * failures of each minute, then a count of those it did not get. The
 * connection is the main thread's, and so is this.
 */
enum {
	DB_LOG_LINES = 5,
	DB_LOG_WINDOW_MS = 60000,
};

static struct {
	uint64_t start;        /* the window's start, loop ms          */
	unsigned lines;        /* said in this window                  */
	unsigned quiet;        /* not said in this window              */
} dblog;


/** Translate an SQLite result code to an errno code */
int db_code(int rc)
{
	switch (rc & 0xff) {

	case SQLITE_NOMEM:    return ENOMEM;
	case SQLITE_FULL:     return ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:   return EBADMSG;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:   return EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN: return EACCES;
	default:              return EIO;
	}
}


/**
 * Log an SQLite failure (a few a minute) and translate it to an errno
 * code
 *
 * @param db    Connection (NULL: rc alone says what failed)
 * @param what  What was being done, for the log
 * @param rc    SQLite result code
 *
 * @return the errno code for rc
 */
int db_err(struct sqlite3 *db, const char *what, int rc)
{
	uint64_t now = tmr_jiffies();

	if (!dblog.start || now - dblog.start >= DB_LOG_WINDOW_MS) {
		if (dblog.quiet)
			errlog("evstore: %u more database errors in the last"
			       " minute were not logged\n", dblog.quiet);
		dblog.start = now;
		dblog.lines = 0;
		dblog.quiet = 0;
	}

	if (dblog.lines < DB_LOG_LINES) {
		++dblog.lines;
		errlog("evstore: %s: %s (%d)\n", what,
		       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
	}
	else {
		++dblog.quiet;
	}

	return db_code(rc);
}


/** Run SQL that returns no rows */
int db_exec(struct sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_err(db, sql, rc);
}


/** Prepare a statement (finalize it when done) */
int db_prepare(struct sqlite3 *db, struct sqlite3_stmt **stp,
	       const char *sql)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, stp, NULL);

	return rc == SQLITE_OK ? 0 : db_err(db, sql, rc);
}


/** Step a statement that returns no rows, then finalize it */
int db_done(struct sqlite3 *db, struct sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);

	return rc == SQLITE_DONE ? 0 : db_err(db, what, rc);
}


/** Start a transaction: the changes of one step are written together */
int db_begin(struct sqlite3 *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}


/** Commit if err is 0, else roll back; returns err, or the commit's */
int db_end(struct sqlite3 *db, int err)
{
	if (err) {
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}

	err = db_exec(db, "COMMIT");
	if (err)
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);

	return err;
}


/** Bind a string, NULL as SQL NULL; s must outlive the statement's use */
void db_bind_text(struct sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}


/** Bind an unsigned number; SQLite's integers stop at INT64_MAX */
void db_bind_u64(struct sqlite3_stmt *st, int i, uint64_t v)
{
	sqlite3_bind_int64(st, i, (sqlite3_int64)min(v, (uint64_t)INT64_MAX));
}


/** A column as an unsigned number: NULL and negatives read as 0 */
uint64_t db_col_u64(struct sqlite3_stmt *st, int col)
{
	sqlite3_int64 v = sqlite3_column_int64(st, col);

	return v > 0 ? (uint64_t)v : 0;
}


/**
 * A text column as a C string (valid until the statement moves on):
 * NULL for NULL, and for text that holds a NUL, which a C string would
 * cut into another value (another row's key, say)
 */
const char *db_col_str(struct sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	if (!s || strlen(s) != (size_t)sqlite3_column_bytes(st, col))
		return NULL;

	return s;
}


/** A column as a new string (mem_deref it); NULL (as db_col_str() says)
    leaves *dstp alone */
int db_col_dup(char **dstp, struct sqlite3_stmt *st, int col)
{
	const char *s = db_col_str(st, col);

	return s ? str_dup(dstp, s) : 0;
}
