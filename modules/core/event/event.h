/**
 * @file event.h  Events: the durable log and the bus that publishes to it
 *
 * Part of sipphone.h, which includes libre, jansson and bsapi.h first:
 * include that.
 *
 * Threads: main thread only.
 */

#ifndef SP_EVENT_H
#define SP_EVENT_H

/*
 * Event store (evstore.c): the durable event log, SQLite in WAL mode
 */

struct evstore;
struct evbus_event;
struct sqlite3;

/** How the store's writes go; the counts are since start */
struct evstore_status {
	int err;               /* why the last write failed; 0: writing   */
	uint64_t since_ms;     /* unix ms writes began to fail; 0: they do
				  not                                     */
	size_t pending;        /* events waiting in memory to be written  */
	uint64_t last_pending; /* the seq of the newest that waits        */
	uint64_t not_stored;   /* events not written when published ...   */
	uint64_t written_late; /* ... of those, written since             */
	uint64_t lost;         /* ... and never written (too many waited) */
};

/* The oldest seq a reader still needs (UINT64_MAX: none) */
typedef uint64_t (evstore_floor_h)(void *arg);

/* An event read from the log (valid during the call); true stops */
typedef bool (evstore_each_h)(const struct evbus_event *ev, void *arg);

int  evstore_open(struct evstore **esp, const char *path, uint32_t keep,
		  uint32_t max_age_s);
void evstore_set_floor_handler(struct evstore *es, evstore_floor_h *h,
			       void *arg);
void evstore_trim(struct evstore *es);
uint64_t evstore_last_seq(const struct evstore *es);
int  evstore_append(struct evstore *es, const struct evbus_event *ev);
void evstore_status(const struct evstore *es, struct evstore_status *st);
int  evstore_each(struct evstore *es, uint64_t after, size_t max,
		  evstore_each_h *h, void *arg);
int  evstore_list(struct evstore *es, uint64_t after, size_t limit,
		  struct mbuf *mb, uint64_t *lastp);
struct sqlite3 *evstore_db(const struct evstore *es);


/*
 * SQL helpers (db.c): for every table in the store's database, the
 * event log's and those others keep beside it
 */

struct sqlite3_stmt;

int  db_code(int rc);
int  db_err(struct sqlite3 *db, const char *what, int rc);
int  db_exec(struct sqlite3 *db, const char *sql);
int  db_prepare(struct sqlite3 *db, struct sqlite3_stmt **stp,
		const char *sql);
int  db_done(struct sqlite3 *db, struct sqlite3_stmt *st, const char *what);
int  db_begin(struct sqlite3 *db);
int  db_end(struct sqlite3 *db, int err);
void db_bind_text(struct sqlite3_stmt *st, int i, const char *s);
void db_bind_u64(struct sqlite3_stmt *st, int i, uint64_t v);
uint64_t db_col_u64(struct sqlite3_stmt *st, int col);
const char *db_col_str(struct sqlite3_stmt *st, int col);
int  db_col_dup(char **dstp, struct sqlite3_stmt *st, int col);


/*
 * Event bus (evbus.c): publish once to the store and every subscriber
 */

struct evbus;
struct evbus_sub;

/** A published event; the envelope is its JSON text */
struct evbus_event {
	uint64_t seq;
	const char *id;        /* "evt_..."                          */
	const char *type;      /* "call.incoming", ...               */
	uint64_t time_ms;      /* unix ms                            */
	const char *json;      /* the whole envelope, compact JSON   */
};

typedef void (evbus_h)(const struct evbus_event *ev, void *arg);

int  evbus_alloc(struct evbus **busp, struct evstore *store);
int  evbus_subscribe(struct evbus_sub **subp, struct evbus *bus,
		     evbus_h *h, void *arg);
int  evbus_publish(struct evbus *bus, const char *type, json_t *data);
uint64_t evbus_last_seq(const struct evbus *bus);
uint64_t evbus_published(const struct evbus *bus);
uint64_t evbus_store_errors(const struct evbus *bus);
int  evbus_list(const struct evbus *bus, uint64_t after, size_t limit,
		struct mbuf *mb, uint64_t *lastp);

#endif
