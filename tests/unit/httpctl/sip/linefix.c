/**
 * @file linefix.c  The fixture of the line table's tests
 */

#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"
#include "tmpstore.h"
#include "linefix.h"


static void event_handler(const struct evbus_event *ev, void *arg)
{
	struct fixture *fx = arg;
	json_t *env;

	env = json_loads(ev->json, 0, NULL);
	assert_non_null(env);
	assert_int_equal(0, json_array_append_new(fx->events, env));

	if (fx->cancel_on_unreg && !strcmp(ev->type, "line.unregistered"))
		re_cancel();
}


int linefix_setup(void **state)
{
	struct fixture *fx;

	fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;

	if (libre_init() ||
	    tmpstore_open(&fx->store, fx->dir, sizeof(fx->dir)) ||
	    evbus_alloc(&fx->bus, fx->store) ||
	    evbus_subscribe(&fx->sub, fx->bus, event_handler, fx) ||
	    lines_alloc(&fx->lines, fx->bus, fx->store, NULL))
		return -1;

	fx->events = json_array();
	if (!fx->events)
		return -1;

	*state = fx;

	return 0;
}


int linefix_teardown(void **state)
{
	struct fixture *fx = *state;

	mem_deref(fx->lines);
	mem_deref(fx->sub);
	mem_deref(fx->bus);
	mem_deref(fx->store);
	tmpstore_remove(fx->dir);
	json_decref(fx->events);
	free(fx);

	libre_close();

	return 0;
}
