/**
 * @file test_callstore.c  The live calls' rows (callstore.c), in a
 *                         temporary event store
 */

#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"
#include "tmpstore.h"


/* calls.c's, which needs baresip: the same names */
const char *pcall_dir_name(enum pcall_dir dir)
{
	return dir == PCALL_FROM_PHONE ? "from_phone" : "to_phone";
}


struct fixture {
	struct evstore *store;
	char dir[64];
};

struct seen {
	size_t n;
	char id[4][32];
	char line[4][8];
	enum pcall_dir dir[4];
	uint64_t started_at[4], answered_at[4], alive_at[4];
	char dialed[4][16];
	char from[4][64];
	bool dialed_null[4];
};


static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || tmpstore_open(&fx->store, fx->dir, sizeof(fx->dir)) ||
	    callstore_open(evstore_db(fx->store)))
		return -1;

	*state = fx;

	return 0;
}


static int teardown(void **state)
{
	struct fixture *fx = *state;

	mem_deref(fx->store);
	tmpstore_remove(fx->dir);
	free(fx);

	return 0;
}


static int row_handler(const struct callstore_row *row, void *arg)
{
	struct seen *s = arg;
	size_t i = s->n++;

	assert_true(i < 4);
	str_ncpy(s->id[i], row->id, sizeof(s->id[i]));
	str_ncpy(s->line[i], row->line, sizeof(s->line[i]));
	s->dir[i] = row->dir;
	s->started_at[i] = row->started_at;
	s->answered_at[i] = row->answered_at;
	s->alive_at[i] = row->alive_at;
	s->dialed_null[i] = row->dialed == NULL;
	str_ncpy(s->dialed[i], row->dialed ? row->dialed : "",
		 sizeof(s->dialed[i]));
	str_ncpy(s->from[i], row->from ? row->from : "", sizeof(s->from[i]));

	return 0;
}


static struct seen load(struct fixture *fx)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(0, callstore_load(evstore_db(fx->store),
					   row_handler, &s));

	return s;
}


static void test_callstore_rows(void **state)
{
	struct fixture *fx = *state;
	struct sqlite3 *db = evstore_db(fx->store);
	struct pcall a, b;
	struct seen s;

	memset(&a, 0, sizeof(a));
	a.id = "call_aaaa";
	a.line = "100";
	a.dir = PCALL_FROM_PHONE;
	a.dialed = "1234";
	a.from = "sip:100@192.168.1.50:5060";
	a.started_at = 1000;

	memset(&b, 0, sizeof(b));
	b.id = "call_bbbb";
	b.line = "101";
	b.dir = PCALL_TO_PHONE;
	b.from = "sip:sipphone@192.168.1.10";
	b.started_at = 2000;

	/* written in any order, read oldest first */
	assert_int_equal(0, callstore_save(db, &b, 2000));
	assert_int_equal(0, callstore_save(db, &a, 1000));

	s = load(fx);
	assert_int_equal(2, s.n);
	assert_string_equal("call_aaaa", s.id[0]);
	assert_string_equal("100", s.line[0]);
	assert_int_equal(PCALL_FROM_PHONE, s.dir[0]);
	assert_string_equal("1234", s.dialed[0]);
	assert_string_equal("sip:100@192.168.1.50:5060", s.from[0]);
	assert_int_equal(1000, s.started_at[0]);
	assert_int_equal(0, s.answered_at[0]);
	assert_int_equal(1000, s.alive_at[0]);
	assert_string_equal("call_bbbb", s.id[1]);
	assert_int_equal(PCALL_TO_PHONE, s.dir[1]);
	assert_true(s.dialed_null[1]);

	/* answered: the same row, now with its answer */
	a.answered_at = 1500;
	assert_int_equal(0, callstore_save(db, &a, 1500));
	s = load(fx);
	assert_int_equal(2, s.n);
	assert_int_equal(1500, s.answered_at[0]);

	/* alive: every row stamped */
	assert_int_equal(0, callstore_alive(db, 9000));
	s = load(fx);
	assert_int_equal(9000, s.alive_at[0]);
	assert_int_equal(9000, s.alive_at[1]);

	/* ended: its row goes, the other stays */
	assert_int_equal(0, callstore_remove(db, "call_aaaa"));
	assert_int_equal(0, callstore_remove(db, "call_none"));
	s = load(fx);
	assert_int_equal(1, s.n);
	assert_string_equal("call_bbbb", s.id[0]);

	assert_int_equal(0, callstore_remove(db, "call_bbbb"));
	assert_int_equal(0, load(fx).n);

	/* rows we did not write (no id, no line, not UTF-8): skipped */
	assert_int_equal(0, db_exec(db, "INSERT INTO calls_live VALUES"
				    " ('', '100', 'to_phone', 1, 0, NULL,"
				    " NULL, 1), ('call_c', '', 'to_phone', 2,"
				    " 0, NULL, NULL, 2), (CAST(x'63ff' AS"
				    " TEXT), '100', 'to_phone', 3, 0, NULL,"
				    " NULL, 3), ('call_d', '100', 'to_phone',"
				    " 4, 0, NULL, NULL, 4)"));
	s = load(fx);
	assert_int_equal(1, s.n);
	assert_string_equal("call_d", s.id[0]);
}


/* The table outlives the store's connection: a restart reads it back */
static void test_callstore_reopen(void **state)
{
	struct fixture *fx = *state;
	struct pcall a;
	char path[128];
	struct seen s;

	memset(&a, 0, sizeof(a));
	a.id = "call_cccc";
	a.line = "100";
	a.dir = PCALL_TO_PHONE;
	a.started_at = 1000;
	a.answered_at = 1200;
	assert_int_equal(0, callstore_save(evstore_db(fx->store), &a, 4000));

	fx->store = mem_deref(fx->store);
	re_snprintf(path, sizeof(path), "%s/events.db", fx->dir);
	assert_int_equal(0, evstore_open(&fx->store, path, 1000, 86400));
	assert_int_equal(0, callstore_open(evstore_db(fx->store)));

	s = load(fx);
	assert_int_equal(1, s.n);
	assert_string_equal("call_cccc", s.id[0]);
	assert_int_equal(1200, s.answered_at[0]);
	assert_int_equal(4000, s.alive_at[0]);
}


static void test_callstore_args(void **state)
{
	struct fixture *fx = *state;
	struct sqlite3 *db = evstore_db(fx->store);
	struct pcall a;

	memset(&a, 0, sizeof(a));

	assert_int_equal(EINVAL, callstore_open(NULL));
	assert_int_equal(EINVAL, callstore_save(NULL, &a, 1));
	assert_int_equal(EINVAL, callstore_save(db, NULL, 1));
	assert_int_equal(EINVAL, callstore_alive(NULL, 1));
	assert_int_equal(EINVAL, callstore_remove(db, NULL));
	assert_int_equal(EINVAL, callstore_load(db, NULL, NULL));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_callstore_rows,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_callstore_reopen,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_callstore_args,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, unit_libre_setup,
				      unit_libre_teardown);
}
