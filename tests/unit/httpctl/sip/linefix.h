/**
 * @file linefix.h  The fixture of the line table's tests (test_line.c,
 *                  test_linestore.c): a line table on a bus and a
 *                  temporary event store, and the events it published
 *
 * Include unit.h, sipphone.h and sip/sip.h first.
 */

struct fixture {
	struct evstore *store;
	char dir[64];
	struct evbus *bus;
	struct evbus_sub *sub;
	struct lines *lines;
	json_t *events;        /* array of envelopes, newest last */
	bool cancel_on_unreg;  /* stop re_main() at line.unregistered */
};

int linefix_setup(void **state);
int linefix_teardown(void **state);

#define LINEFIX_TEST(f) \
	cmocka_unit_test_setup_teardown(f, linefix_setup, linefix_teardown)
