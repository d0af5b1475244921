/**
 * @file evstore.c  The durable event log: SQLite in WAL mode
 *
 * Every event is written here before anyone hears of it, so the log
 * (GET /api/v1/events) and the webhook outbox lose nothing to a crash or
 * a reboot, and seq goes on where it stopped.
 *
 * Writes stay on the main thread: in WAL mode with synchronous=NORMAL a
 * commit is one write() to the WAL, well under a millisecond. What can
 * take tens of milliseconds on an SD card is the fsync of a checkpoint,
 * so the main connection never checkpoints (wal_autocheckpoint=0): a
 * thread of our own does it, on a connection of its own.
 *
 * A store that will not open (a corrupt or foreign file) is moved aside
 * and a fresh one made; the log says so.
 *
 * A write that fails (a full disk: SQLITE_FULL, or an I/O error) loses
 * nothing at once: the event waits in memory, with those after it (so
 * the log stays in seq order), and every FLUSH_MS the waiting ones are
 * written in one transaction, until that works again. At most
 * PENDING_MAX events (PENDING_BYTES_MAX of envelopes) wait; beyond that
 * the oldest waiting one is lost, which leaves a gap in the log's seq.
 * Writing resumes by itself when space returns. The log says when
 * writing stops, once a minute while it does not work, and when it
 * works again; evstore_status() tells health and metrics.
 *
 * Threads: the main thread owns the store and its connection; the
 * checkpoint thread touches only its own connection and the fields
 * marked for it below.
 */

#include <pthread.h>
#include <unistd.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include "sipphone.h"


enum {
	SCHEMA_VERSION = 1,        /* PRAGMA user_version of our stores */
	TRIM_INTERVAL_MS = 60000,
	CHECKPOINT_S = 10,
	PENDING_MAX = 1000,        /* events waiting to be written      */
	PENDING_BYTES_MAX = 1 << 20,
	FLUSH_MS = 1000,           /* try again while some wait         */
	FAIL_LOG_MS = 60000,       /* a line while writes fail, at most */
};

/* An event that could not be written yet: a copy */
struct pending {
	struct le le;
	struct evbus_event ev;     /* its strings are these:          */
	char *id;
	char *type;
	char *json;
	size_t bytes;
};

struct evstore {
	sqlite3 *db;               /* main thread                     */
	sqlite3_stmt *st_ins;
	sqlite3_stmt *st_each;
	bool each_busy;            /* st_each is stepping: no re-entry */
	char *path;
	uint64_t last_seq;
	uint32_t keep;             /* events kept at least ...        */
	uint32_t max_age_s;        /* ... unless older than this      */
	evstore_floor_h *floorh;   /* oldest seq someone still needs  */
	void *floorarg;
	struct tmr tmr_trim;

	/* writes that failed (main thread) */
	struct list pendl;         /* struct pending, oldest first    */
	size_t pend_bytes;
	struct tmr tmr_flush;
	struct evstore_status st;  /* what health and metrics read    */
	uint64_t fail_mono;        /* when writes began to fail       */
	uint64_t logged_mono;      /* the last line about it          */
	uint64_t lost_at_fail;     /* st.lost when they began to      */

	/* the checkpoint thread */
	sqlite3 *ckdb;             /* its connection: opened here, then
				      the thread's alone              */
	pthread_t thread;
	bool thread_run;           /* main thread only                */
	pthread_mutex_t mtx;       /* guards stop, with cond          */
	pthread_cond_t cond;
	atomic_bool stop;
};


static const char schema[] =
	"CREATE TABLE IF NOT EXISTS events ("
	" seq INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" type TEXT NOT NULL,"
	" time_ms INTEGER NOT NULL,"
	" json TEXT NOT NULL);";

static const char schema_version[] = "PRAGMA user_version=1";

/* A burst of writes between two checkpoints grows the WAL (a few pages
   per event); once a checkpoint has caught up, the next write cuts it
   back to this, so the burst does not hold the disk for good */
static const char wal_limit[] = "PRAGMA journal_size_limit=4194304";


static int flush(struct evstore *es);
static struct pending *pending_first(const struct evstore *es);


/*
 * The checkpoint thread's own connection (SQLite connections are not
 * shared), opened on the main thread so a failure is logged there. It
 * reads once: a connection finds the WAL at its first read, and
 * sqlite3_wal_checkpoint_v2() on one that has not does nothing (the
 * WAL then grew for as long as the process ran).
 */
static int ckpt_open(struct evstore *es)
{
	int rc;

	rc = sqlite3_open_v2(es->path, &es->ckdb, SQLITE_OPEN_READWRITE,
			     NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(es->ckdb, "SELECT COUNT(*) FROM"
				  " sqlite_master", NULL, NULL, NULL);
	if (rc)
		return db_err(es->ckdb, "opening the checkpoint connection",
			      rc);

	sqlite3_busy_timeout(es->ckdb, 1000);

	return 0;
}


static void *checkpoint_thread(void *arg)
{
	struct evstore *es = arg;
	sqlite3 *db = es->ckdb;

	pthread_mutex_lock(&es->mtx);
	while (!atomic_load(&es->stop)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += CHECKPOINT_S;
		pthread_cond_timedwait(&es->cond, &es->mtx, &ts);

		pthread_mutex_unlock(&es->mtx);
		(void)sqlite3_wal_checkpoint_v2(db, NULL,
						SQLITE_CHECKPOINT_PASSIVE,
						NULL, NULL);
		pthread_mutex_lock(&es->mtx);
	}
	pthread_mutex_unlock(&es->mtx);

	return NULL;
}


static void evstore_destructor(void *arg)
{
	struct evstore *es = arg;

	tmr_cancel(&es->tmr_trim);
	tmr_cancel(&es->tmr_flush);

	/* a last try for what waits: the disk may have room now */
	if (!list_isempty(&es->pendl) && flush(es))
		errlog("evstore: %u events could not be written and are"
		       " lost (seq %llu to %llu)\n",
		       list_count(&es->pendl),
		       (unsigned long long)pending_first(es)->ev.seq,
		       (unsigned long long)es->st.last_pending);
	list_flush(&es->pendl);

	if (es->thread_run) {
		pthread_mutex_lock(&es->mtx);
		atomic_store(&es->stop, true);
		pthread_cond_signal(&es->cond);
		pthread_mutex_unlock(&es->mtx);
		pthread_join(es->thread, NULL);
	}
	pthread_mutex_destroy(&es->mtx);
	pthread_cond_destroy(&es->cond);
	sqlite3_close(es->ckdb);

	sqlite3_finalize(es->st_ins);
	sqlite3_finalize(es->st_each);
	if (es->db) {
		/* a last checkpoint, so the WAL does not outlive us */
		(void)sqlite3_wal_checkpoint_v2(es->db, NULL,
						SQLITE_CHECKPOINT_TRUNCATE,
						NULL, NULL);
		sqlite3_close(es->db);
	}
	mem_deref(es->path);
}


static int user_version(sqlite3 *db, int *verp)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*verp = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);

	return rc == SQLITE_ROW ? 0 : EBADMSG;
}


/* Has the file a table by that name? */
static bool has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (SQLITE_OK == sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master"
					    " WHERE type = 'table' AND"
					    " name = ?", -1, &st, NULL)) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);

	return found;
}


/*
 * Is this our store (or an empty file)? Read only. A store of a newer
 * version is left alone (ENOTSUP: an older sipphone must not touch it);
 * a file with a table "events" of another shape is not ours (EBADMSG).
 */
static int schema_check(sqlite3 *db, const char *path)
{
	sqlite3_stmt *st = NULL;
	int ver = 0;

	if (user_version(db, &ver))
		return EBADMSG;

	if (ver > SCHEMA_VERSION) {
		warning("evstore: %s was made by a newer sipphone (schema %d,"
			" this one knows %d): not touching it\n", path, ver,
			SCHEMA_VERSION);
		return ENOTSUP;
	}

	if (!has_table(db, "events"))
		return 0;

	if (sqlite3_prepare_v2(db, "SELECT seq, id, type, time_ms, json"
			       " FROM events LIMIT 0", -1, &st, NULL)) {
		sqlite3_finalize(st);
		return EBADMSG;
	}
	sqlite3_finalize(st);

	return 0;
}


/* Open and check a store file; EBADMSG if it is not a sound store */
static int db_open(sqlite3 **dbp, const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE, NULL);
	if (rc) {
		err = db_err(db, path, rc);
		goto out;
	}
	sqlite3_busy_timeout(db, 1000);

	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	err = (rc != SQLITE_ROW ||
	       str_cmp((const char *)sqlite3_column_text(st, 0), "ok"))
		? EBADMSG : 0;

	/* done with it: an open statement would hold a transaction */
	sqlite3_finalize(st);
	if (err)
		goto out;

	/* nothing is written before we know the file is ours */
	err = schema_check(db, path);
	if (err)
		goto out;

	err  = db_exec(db, "PRAGMA journal_mode=WAL");
	err |= db_exec(db, "PRAGMA synchronous=NORMAL");
	err |= db_exec(db, "PRAGMA wal_autocheckpoint=0");
	err |= db_exec(db, wal_limit);
	err |= db_exec(db, schema);
	err |= db_exec(db, schema_version);
	if (err) {
		err = EBADMSG;
		goto out;
	}

 out:
	if (err)
		sqlite3_close(db);
	else
		*dbp = db;

	return err;
}


/* A file that is no store of ours goes aside, never deleted, and never
   over one moved aside before */
static int move_aside(const char *path)
{
	char base[1024], aside[1040], side[1040];
	static const char *const sfx[] = {"", "-wal", "-shm"};
	uint64_t now = sptime_now_ms();
	unsigned n;
	size_t i;

	for (n = 0; n < 1000; n++) {
		if (n)
			re_snprintf(base, sizeof(base), "%s.corrupt-%llu-%u",
				    path, (unsigned long long)now, n);
		else
			re_snprintf(base, sizeof(base), "%s.corrupt-%llu",
				    path, (unsigned long long)now);
		if (access(base, F_OK) && errno == ENOENT)
			break;
	}
	if (n == 1000)
		return EEXIST;

	for (i = 0; i < ARRAY_SIZE(sfx); i++) {
		re_snprintf(side, sizeof(side), "%s%s", path, sfx[i]);
		re_snprintf(aside, sizeof(aside), "%s%s", base, sfx[i]);
		if (rename(side, aside) && errno != ENOENT)
			return errno;
	}

	warning("evstore: %s was not a sound event store: moved to %s;"
		" starting a fresh one\n", path, base);

	return 0;
}


static int last_seq_read(struct evstore *es)
{
	sqlite3_stmt *st = NULL;
	int rc, err;

	err = db_prepare(es->db, &st, "SELECT MAX(seq) FROM events");
	if (err)
		return err;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		es->last_seq = db_col_u64(st, 0);
	else
		err = db_err(es->db, "reading the last seq", rc);

	sqlite3_finalize(st);

	return err;
}


/** Delete what retention lets go: older than the newest keep, or than
    max_age, but never what a reader still needs, nor the newest event */
static void trim(struct evstore *es)
{
	sqlite3_stmt *st = NULL;
	uint64_t below = es->last_seq > es->keep ? es->last_seq - es->keep : 0;
	uint64_t floor = es->floorh ? es->floorh(es->floorarg) : UINT64_MAX;
	int64_t old = (int64_t)sptime_now_ms() - (int64_t)es->max_age_s * 1000;

	if (db_prepare(es->db, &st, "DELETE FROM events WHERE"
		       " (seq <= ?1 OR time_ms < ?2)"
		       " AND seq < ?3 AND seq < ?4"))
		return;

	db_bind_u64(st, 1, below);
	sqlite3_bind_int64(st, 2, old);
	db_bind_u64(st, 3, floor);
	db_bind_u64(st, 4, es->last_seq);

	if (!db_done(es->db, st, "trimming the event log") &&
	    sqlite3_changes(es->db))
		debug("evstore: trimmed %d events\n", sqlite3_changes(es->db));
}


static void trim_handler(void *arg)
{
	struct evstore *es = arg;

	tmr_start(&es->tmr_trim, TRIM_INTERVAL_MS, trim_handler, es);
	trim(es);
}


/**
 * Open the event store, making it if need be
 *
 * @param esp        Returned store
 * @param path       Database file
 * @param keep       Events always kept (the newest)
 * @param max_age_s  Older events than this go, beyond the newest keep
 *
 * @return 0 if success, otherwise errorcode
 */
int evstore_open(struct evstore **esp, const char *path, uint32_t keep,
		 uint32_t max_age_s)
{
	struct evstore *es;
	int err;

	if (!esp || !path || !keep)
		return EINVAL;

	es = mem_zalloc(sizeof(*es), evstore_destructor);
	if (!es)
		return ENOMEM;

	pthread_mutex_init(&es->mtx, NULL);
	pthread_cond_init(&es->cond, NULL);
	tmr_init(&es->tmr_trim);
	tmr_init(&es->tmr_flush);
	list_init(&es->pendl);
	es->keep = keep;
	es->max_age_s = max_age_s;

	err = str_dup(&es->path, path);
	if (err)
		goto out;

	err = db_open(&es->db, path);
	if (err == EBADMSG) {
		err = move_aside(path);
		if (!err)
			err = db_open(&es->db, path);
	}
	if (err)
		goto out;

	err = last_seq_read(es);
	if (err)
		goto out;

	err = db_prepare(es->db, &es->st_ins, "INSERT INTO events"
			 " (seq, id, type, time_ms, json)"
			 " VALUES (?, ?, ?, ?, ?)");
	if (!err)
		err = db_prepare(es->db, &es->st_each, "SELECT seq, id, type,"
				 " time_ms, json FROM events WHERE seq > ?"
				 " ORDER BY seq LIMIT ?");
	if (err)
		goto out;

	err = ckpt_open(es);
	if (err)
		goto out;

	err = pthread_create(&es->thread, NULL, checkpoint_thread, es);
	if (err)
		goto out;
	es->thread_run = true;

	tmr_start(&es->tmr_trim, 0, trim_handler, es);

	info("evstore: %s: events up to seq %llu\n", path,
	     (unsigned long long)es->last_seq);

 out:
	if (err)
		mem_deref(es);
	else
		*esp = es;

	return err;
}


/** Who needs old events kept (the webhook outbox): never trim >= floor */
void evstore_set_floor_handler(struct evstore *es, evstore_floor_h *h,
			       void *arg)
{
	if (!es)
		return;

	es->floorh = h;
	es->floorarg = arg;
}


/** Trim now, not at the next round: a reader let go of old events */
void evstore_trim(struct evstore *es)
{
	if (es)
		trim(es);
}


/** The seq of the newest stored event (0: none yet) */
uint64_t evstore_last_seq(const struct evstore *es)
{
	return es ? es->last_seq : 0;
}


/*
 * Writing, and what waits when writing fails
 */

static void pending_destructor(void *arg)
{
	struct pending *p = arg;

	list_unlink(&p->le);
	mem_deref(p->id);
	mem_deref(p->type);
	mem_deref(p->json);
}


static struct pending *pending_first(const struct evstore *es)
{
	struct le *le = list_head(&es->pendl);

	return le ? le->data : NULL;
}


/* Insert one event; SQLite's code, translated, logged by the caller */
static int insert(struct evstore *es, const struct evbus_event *ev)
{
	sqlite3_stmt *st = es->st_ins;
	int rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)ev->seq);
	sqlite3_bind_text(st, 2, ev->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)ev->time_ms);
	sqlite3_bind_text(st, 5, ev->json, -1, SQLITE_STATIC);

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);

	return rc == SQLITE_DONE ? 0 : db_code(rc);
}


/* Write what waits, in one transaction; 0: nothing waits any more */
static int flush(struct evstore *es)
{
	struct le *le;
	int err = 0;

	if (sqlite3_exec(es->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return db_code(sqlite3_extended_errcode(es->db));

	for (le = list_head(&es->pendl); le && !err; le = le->next) {
		const struct pending *p = le->data;

		err = insert(es, &p->ev);
	}

	if (!err && sqlite3_exec(es->db, "COMMIT", NULL, NULL, NULL))
		err = db_code(sqlite3_extended_errcode(es->db));
	if (err) {
		(void)sqlite3_exec(es->db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}

	es->last_seq = es->st.last_pending;
	es->st.written_late += list_count(&es->pendl);
	list_flush(&es->pendl);
	es->pend_bytes = 0;

	return 0;
}


/* Writes fail: once when they begin, then once a minute at most */
static void fail_log(struct evstore *es, int err)
{
	uint64_t now = tmr_jiffies();

	if (!es->fail_mono) {
		es->fail_mono = now;
		es->logged_mono = now;
		es->lost_at_fail = es->st.lost;
		errlog("evstore: %s: cannot write the event log (%m): events"
		       " wait in memory (at most %u) and are written when it"
		       " works again\n", es->path, err, PENDING_MAX);
		return;
	}

	if (now - es->logged_mono < FAIL_LOG_MS)
		return;

	warning("evstore: %s: still cannot write the event log (%m) after"
		" %llu s: %u events wait, %llu lost\n", es->path, err,
		(unsigned long long)((now - es->fail_mono) / 1000),
		list_count(&es->pendl),
		(unsigned long long)(es->st.lost - es->lost_at_fail));
	es->logged_mono = now;
}


static void flush_handler(void *arg)
{
	struct evstore *es = arg;
	unsigned n = list_count(&es->pendl);
	int err;

	err = flush(es);
	if (err) {
		es->st.err = err;
		fail_log(es, err);
		tmr_start(&es->tmr_flush, FLUSH_MS, flush_handler, es);
		return;
	}

	info("evstore: %s: writing again after %llu s: %u events written"
	     " late, %llu lost\n", es->path,
	     (unsigned long long)((tmr_jiffies() - es->fail_mono) / 1000), n,
	     (unsigned long long)(es->st.lost - es->lost_at_fail));

	es->st.err = 0;
	es->st.since_ms = 0;
	es->fail_mono = 0;
}


/* Keep an event to write later; the oldest waiting one goes if there
   are too many */
static int pending_add(struct evstore *es, const struct evbus_event *ev)
{
	struct pending *p;
	size_t bytes = strlen(ev->json);
	int err;

	p = mem_zalloc(sizeof(*p), pending_destructor);
	if (!p)
		return ENOMEM;

	err  = str_dup(&p->id, ev->id);
	err |= str_dup(&p->type, ev->type);
	err |= str_dup(&p->json, ev->json);
	if (err) {
		mem_deref(p);
		return ENOMEM;
	}

	p->ev = *ev;
	p->ev.id = p->id;
	p->ev.type = p->type;
	p->ev.json = p->json;
	p->bytes = bytes;

	while (!list_isempty(&es->pendl) &&
	       (list_count(&es->pendl) >= PENDING_MAX ||
		es->pend_bytes + bytes > PENDING_BYTES_MAX)) {
		struct pending *old = pending_first(es);

		es->pend_bytes -= old->bytes;
		++es->st.lost;
		mem_deref(old);
	}

	list_append(&es->pendl, &p->le, p);
	es->pend_bytes += bytes;
	es->st.last_pending = ev->seq;

	if (!tmr_isrunning(&es->tmr_flush))
		tmr_start(&es->tmr_flush, FLUSH_MS, flush_handler, es);

	return 0;
}


/**
 * Store an event; its seq must follow the last one. If the write fails
 * (or others wait already) the event waits in memory and is written
 * later, in order.
 *
 * @return 0 if stored, EAGAIN if it waits to be written, otherwise
 *         errorcode (it is lost)
 */
int evstore_append(struct evstore *es, const struct evbus_event *ev)
{
	int err;

	if (!es || !ev)
		return EINVAL;

	/* behind those that wait: the log stays in seq order */
	if (list_isempty(&es->pendl)) {
		err = insert(es, ev);
		if (!err) {
			es->last_seq = ev->seq;
			return 0;
		}

		es->st.err = err;
		if (!es->st.since_ms)
			es->st.since_ms = sptime_now_ms();
		fail_log(es, err);
	}

	++es->st.not_stored;

	err = pending_add(es, ev);
	if (err) {
		++es->st.lost;
		return err;
	}

	return EAGAIN;
}


/** How writing goes: what waits, what was lost (all zero if fine) */
void evstore_status(const struct evstore *es, struct evstore_status *st)
{
	if (!st)
		return;

	memset(st, 0, sizeof(*st));
	if (!es)
		return;

	*st = es->st;
	st->pending = list_count(&es->pendl);
}


/**
 * Walk the stored events with seq > after, oldest first
 *
 * @param es     Store
 * @param after  Only events newer than this seq
 * @param max    Read at most this many
 * @param h      Called with each event (valid during the call); returns
 *               true to stop. It must not walk the store again.
 * @param arg    Handler argument
 *
 * @return 0 if success (the log ended, max were read or h stopped),
 *         EBUSY if called from a handler, otherwise errorcode
 */
int evstore_each(struct evstore *es, uint64_t after, size_t max,
		 evstore_each_h *h, void *arg)
{
	struct evbus_event ev;
	sqlite3_stmt *st;
	int rc, err = 0;

	if (!es || !h)
		return EINVAL;

	if (es->each_busy)
		return EBUSY;

	st = es->st_each;
	db_bind_u64(st, 1, after);
	db_bind_u64(st, 2, max);

	es->each_busy = true;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ev.seq = db_col_u64(st, 0);
		ev.id = (const char *)sqlite3_column_text(st, 1);
		ev.type = (const char *)sqlite3_column_text(st, 2);
		ev.time_ms = db_col_u64(st, 3);
		ev.json = (const char *)sqlite3_column_text(st, 4);

		/* the columns are NOT NULL: only memory can fail here */
		if (!ev.id || !ev.type || !ev.json) {
			err = ENOMEM;
			break;
		}

		if (h(&ev, arg))
			break;
	}
	if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = db_err(es->db, "reading the event log", rc);

	sqlite3_reset(st);
	es->each_busy = false;

	return err;
}


struct list_state {
	struct mbuf *mb;
	uint64_t last;
	int err;
};


static bool list_handler(const struct evbus_event *ev, void *arg)
{
	struct list_state *ls = arg;

	ls->err = mbuf_printf(ls->mb, "%s%s", ls->last ? "," : "", ev->json);
	if (ls->err)
		return true;

	ls->last = ev->seq;

	return false;
}


/**
 * Print stored events with seq > after, oldest first, as a comma-separated
 * list of envelopes (the inside of a JSON array)
 *
 * @param es     Store
 * @param after  Only events newer than this seq
 * @param limit  At most this many
 * @param mb     Where to print
 * @param lastp  Returned seq of the last event printed (after if none)
 *
 * @return 0 if success, otherwise errorcode
 */
int evstore_list(struct evstore *es, uint64_t after, size_t limit,
		 struct mbuf *mb, uint64_t *lastp)
{
	struct list_state ls = {mb, 0, 0};
	int err;

	if (!es || !mb)
		return EINVAL;

	err = evstore_each(es, after, limit, list_handler, &ls);
	if (!err)
		err = ls.err;

	if (lastp)
		*lastp = ls.last ? ls.last : after;

	return err;
}


/** The store's connection, for the tables of others (main thread only) */
struct sqlite3 *evstore_db(const struct evstore *es)
{
	return es ? es->db : NULL;
}
