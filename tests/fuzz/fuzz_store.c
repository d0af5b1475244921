/**
 * @file fuzz_store.c  What is read back from the store at start
 *            (core/event/evstore.c; webhook/endpoint.c and outbox.c;
 *            sip/linestore.c and line.c; sip/callstore.c)
 *
 * Input: rows, one a line, fields split by tabs, the first field naming
 * the table (fields in the order of its columns):
 *
 *   e  seq id type time_ms json                          events
 *   w  id url secret description events enabled created_ms
 *      disabled_ms disabled_reason cursor head_seq head_attempts
 *      head_next_ms                                      webhooks
 *   l  id registered contact source transport user_agent expires
 *      expires_at registered_at last_register_at unregistered_at
 *                                                        lines
 *   c  id line direction started_at answered_at dialed from_uri
 *      alive_at                                          calls_live
 *   q  after limit                  how the event log is listed
 *
 * A field goes in as text: SQLite's column affinity makes "12" a number
 * in an INTEGER column and leaves "x" text there, as a damaged or
 * foreign file could. "NULL", or a missing field, is NULL. A row the
 * table's constraints refuse is not written.
 *
 * Then the real code reads the tables back as a start does: the event
 * log (evstore_each(), evstore_list(), and an endpoint's scan of it),
 * the webhook endpoints, the lines and the live calls. Each row must
 * come back as an object the API can show, or be skipped cleanly: with
 * a log line, and no leak.
 *
 * One store (SQLite in memory) serves every input; its tables are
 * emptied after each, and it is closed at exit.
 */

#include <assert.h>
#include <stdlib.h>
#include <sqlite3.h>
#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "fuzz.h"


enum {
	ROWS_MAX = 64,         /* rows of one input                     */
	FIELDS_MAX = 14,       /* the tag and a webhooks row's columns  */
	LINES_MAX = 4,         /* a small table: restores overflow it   */
	LIST_MAX = 1000,       /* the most events listed                */
};

static const struct table {
	char tag;
	const char *name;
	unsigned cols;
} tablev[] = {
	{'e', "events",     5},
	{'w', "webhooks",   13},
	{'l', "lines",      11},
	{'c', "calls_live", 8},
};

static struct evstore *store;


/* calls.c (which needs baresip) names the directions; callstore.c reads
   a row's with these words */
const char *pcall_dir_name(enum pcall_dir dir)
{
	return dir == PCALL_FROM_PHONE ? "from_phone" : "to_phone";
}


/* At exit: the store closed, so that valgrind finds nothing left */
static void teardown(void)
{
	store = mem_deref(store);
	libre_close();
}


/* Once per process: libre (timers), a quiet log, the store, its tables */
static void setup(void)
{
	struct webhooks *whs = NULL;

	if (store)
		return;

	unit_log_quiet = true;
	assert(0 == libre_init());
	assert(0 == atexit(teardown));
	assert(0 == evstore_open(&store, ":memory:", 1000, 86400));
	assert(0 == linestore_open(evstore_db(store)));
	assert(0 == callstore_open(evstore_db(store)));
	assert(0 == webhooks_alloc(&whs, store));
	mem_deref(whs);
}


static const struct table *table_find(const struct pl *tag)
{
	size_t i;

	for (i = 0; tag->l == 1 && i < ARRAY_SIZE(tablev); i++) {
		if (tablev[i].tag == tag->p[0])
			return &tablev[i];
	}

	return NULL;
}


/* How many rows of a table hold now, of those that fit the condition */
static unsigned rows_count(const char *table, const char *where)
{
	sqlite3_stmt *st;
	char sql[96];
	unsigned n = 0;

	re_snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE %s",
		    table, where);
	assert(0 == db_prepare(evstore_db(store), &st, sql));
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (unsigned)sqlite3_column_int(st, 0);
	sqlite3_finalize(st);

	return n;
}


/* Write one row as it is; whether it fits the table is SQLite's say */
static void row_write(const struct table *t, const struct pl *fieldv,
		      size_t n)
{
	char sql[128];
	sqlite3_stmt *st;
	unsigned i;
	int len;

	len = re_snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (?",
			  t->name);
	for (i = 1; i < t->cols; i++)
		len += re_snprintf(sql + len, sizeof(sql) - len, ", ?");
	re_snprintf(sql + len, sizeof(sql) - len, ")");

	assert(0 == db_prepare(evstore_db(store), &st, sql));

	for (i = 0; i < t->cols && i + 1 < n; i++) {
		const struct pl *f = &fieldv[i + 1];

		if (0 == pl_strcmp(f, "NULL"))
			continue;

		sqlite3_bind_text(st, (int)i + 1, f->p, (int)f->l,
				  SQLITE_STATIC);
	}

	(void)sqlite3_step(st);
	sqlite3_finalize(st);
}


/* Split the input into rows and their fields, write them */
static void rows_write(const char *in, size_t size, uint64_t *afterp,
		       size_t *limitp)
{
	const char *end = in + size, *p = in;
	unsigned rows = 0;

	while (p < end && rows++ < ROWS_MAX) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p;
		struct pl fieldv[FIELDS_MAX];
		const struct table *t;
		size_t n = 0;

		if (!eol)
			eol = end;

		while (n < FIELDS_MAX) {
			const char *tab = memchr(q, '\t', (size_t)(eol - q));

			fieldv[n].p = q;
			fieldv[n].l = (size_t)((tab ? tab : eol) - q);
			++n;
			if (!tab)
				break;
			q = tab + 1;
		}

		t = table_find(&fieldv[0]);
		if (t) {
			row_write(t, fieldv, n);
		}
		else if (0 == pl_strcmp(&fieldv[0], "q") && n >= 3) {
			*afterp = pl_u64(&fieldv[1]);
			*limitp = (size_t)min(pl_u64(&fieldv[2]),
					      (uint64_t)LIST_MAX);
		}

		p = eol + 1;
	}
}


/*
 * The event log
 */

struct walk {
	uint64_t after;
	uint64_t last;
	size_t n;
	struct mbuf *mb;       /* the envelopes, as evstore_list() joins */
};


static bool walk_handler(const struct evbus_event *ev, void *arg)
{
	struct walk *w = arg;

	assert(ev->id && ev->type && ev->json);
	assert(ev->seq > w->after && ev->seq > w->last);

	if (w->mb)
		assert(0 == mbuf_printf(w->mb, "%s%s", w->n ? "," : "",
					ev->json));
	w->last = ev->seq;
	++w->n;

	return false;
}


static void events_read(uint64_t after, size_t limit)
{
	struct walk all = {0, 0, 0, NULL}, some = {after, 0, 0, NULL};
	struct mbuf *mb = mbuf_alloc(256);
	uint64_t last = 0;

	assert(mb);
	some.mb = mbuf_alloc(256);
	assert(some.mb);

	/* every event, in seq order (a seq is never 0 nor negative: a
	   row that says so is not read) */
	assert(0 == evstore_each(store, 0, SIZE_MAX, walk_handler, &all));
	assert(all.n == rows_count("events", "seq > 0"));

	/* a page, as GET /api/v1/events lists it */
	assert(0 == evstore_each(store, after, limit, walk_handler, &some));
	assert(some.n <= limit);
	assert(0 == evstore_list(store, after, limit, mb, &last));
	assert(last == (some.n ? some.last : after));
	assert(mb->end == some.mb->end);
	assert(0 == memcmp(mb->buf, some.mb->buf, mb->end));

	mem_deref(some.mb);
	mem_deref(mb);
}


/*
 * Webhook endpoints, and what they owe of the log
 */

static void webhook_owes(const struct webhook *wh)
{
	struct whoutbox_event *ev = NULL;
	uint64_t seq = 0, passed = 0;
	int err;

	err = whoutbox_scan(wh, 16, &seq, &passed);
	assert(!err || err == ENOENT || err == EAGAIN);
	assert(passed >= wh->cursor);
	if (err)
		return;

	assert(seq > wh->cursor && passed < seq);
	assert(0 == whoutbox_event_load(store, seq, &ev));
	assert(ev->seq == seq && webhook_matches(wh, ev->type));
	mem_deref(ev);
}


static void webhooks_read(void)
{
	unsigned rows = rows_count("webhooks", "1");
	unsigned long logged = unit_log_lines;
	struct webhooks *whs = NULL;
	unsigned n = 0;
	struct le *le;

	assert(0 == webhooks_alloc(&whs, store));

	for (le = list_head(webhooks_list(whs)); le; le = le->next) {
		const struct webhook *wh = le->data;
		json_t *obj;

		assert(wh->id && wh->url && wh->secret);
		assert(json_is_array(wh->events));
		assert(webhooks_find(whs, wh->id) == wh);

		/* the API can show it */
		obj = webhook_encode(wh);
		assert(obj);
		json_decref(obj);

		webhook_owes(wh);
		++n;
	}

	/* every row is an endpoint, or was said to be skipped */
	assert(n <= rows && unit_log_lines - logged >= rows - n);

	mem_deref(whs);
}


/*
 * Lines
 */

static void lines_read(void)
{
	const struct lines_cfg cfg = {LINES_MAX, 86400};
	unsigned rows = rows_count("lines", "1");
	unsigned long logged = unit_log_lines;
	struct lines *lines = NULL;
	unsigned n = 0;
	struct le *le;

	assert(0 == lines_alloc(&lines, NULL, store, &cfg));

	for (le = list_head(lines_list(lines)); le; le = le->next) {
		const struct line *line = le->data;
		json_t *obj;

		assert(str_isset(line->id));
		assert(lines_find(lines, line->id) == line);
		assert(line->contact && line->dial_uri && line->user_agent);
		assert(line->tp != SIP_TRANSP_NONE);
		assert(sa_isset(&line->src, SA_ADDR));

		/* the API can show it */
		obj = line_encode(line, LINE_IDLE, NULL);
		assert(obj);
		json_decref(obj);
		++n;
	}

	assert(n <= LINES_MAX);
	assert(n <= rows && unit_log_lines - logged >= rows - n);

	mem_deref(lines);
}


/*
 * Live calls: calls.c (which needs baresip) makes an ended call of each
 * row; here, what it takes from the row is checked instead
 */

struct calls_seen {
	char *idv[ROWS_MAX];   /* each an id once                       */
	unsigned n;
};


static int call_handler(const struct callstore_row *row, void *arg)
{
	struct calls_seen *cs = arg;
	json_t *obj;
	unsigned i;

	assert(str_isset(row->id) && str_isset(row->line));
	assert(row->dir == PCALL_FROM_PHONE || row->dir == PCALL_TO_PHONE);

	/* the id names one row: the one the call's end removes */
	for (i = 0; i < cs->n; i++)
		assert(strcmp(cs->idv[i], row->id));
	assert(cs->n < ROWS_MAX);
	assert(0 == str_dup(&cs->idv[cs->n], row->id));

	/* what pcall_encode() and calls_publish() make of its strings */
	obj = json_pack("{s:s, s:s, s:o, s:o}", "call", row->id,
			"line", row->line, "dialed", utf8_json(row->dialed),
			"from", utf8_json(row->from));
	assert(obj);
	json_decref(obj);

	++cs->n;

	return 0;
}


static void calls_read(void)
{
	unsigned rows = rows_count("calls_live", "1");
	unsigned long logged = unit_log_lines;
	struct calls_seen cs;
	unsigned i;

	memset(&cs, 0, sizeof(cs));
	assert(0 == callstore_load(evstore_db(store), call_handler, &cs));
	assert(cs.n <= rows && unit_log_lines - logged >= rows - cs.n);

	for (i = 0; i < cs.n; i++)
		mem_deref(cs.idv[i]);
}


static void reset(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tablev); i++) {
		char sql[64];

		re_snprintf(sql, sizeof(sql), "DELETE FROM %s",
			    tablev[i].name);
		assert(0 == db_exec(evstore_db(store), sql));
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t after = 0;
	size_t limit = 100;

	setup();

	rows_write((const char *)data, size, &after, &limit);

	events_read(after, limit);
	webhooks_read();
	lines_read();
	calls_read();

	reset();

	return 0;
}
