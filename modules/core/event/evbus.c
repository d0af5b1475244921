/**
 * @file evbus.c  Event bus: every domain event is numbered, stored in the
 *                durable log, then handed to every subscriber, in order
 *
 * The envelope is serialized once, at publish time; subscribers (WS
 * clients, webhooks) and the event log share that one text. An event the
 * store cannot write now (a full disk, say) is still published: the
 * phone's events keep flowing to the WebSocket clients, and the store
 * writes it later (evstore.c says how, and what it logs).
 *
 * Threads: main thread only.
 */

#include "sipphone.h"


struct evrec {
	struct evbus_event ev;
	char *id;
	char *type;
	char *json;
};

struct evbus {
	struct list subl;      /* struct evbus_sub           */
	struct evstore *store;
	uint64_t seq;          /* last seq given             */
	uint64_t published;
	uint64_t store_errors;
};

struct evbus_sub {
	struct le le;
	evbus_h *h;
	void *arg;
};


static void evrec_destructor(void *arg)
{
	struct evrec *rec = arg;

	mem_deref(rec->id);
	mem_deref(rec->type);
	mem_deref(rec->json);
}


static void sub_destructor(void *arg)
{
	struct evbus_sub *sub = arg;

	list_unlink(&sub->le);
}


static void bus_destructor(void *arg)
{
	struct evbus *bus = arg;
	struct le *le;

	mem_deref(bus->store);

	/* subscribers outlive nothing: detach those still listening */
	while ((le = list_head(&bus->subl)))
		list_unlink(le);
}


/**
 * Create an event bus
 *
 * @param busp   Returned bus
 * @param store  The durable event log; seq goes on from its last event
 *
 * @return 0 if success, otherwise errorcode
 */
int evbus_alloc(struct evbus **busp, struct evstore *store)
{
	struct evbus *bus;

	if (!busp || !store)
		return EINVAL;

	bus = mem_zalloc(sizeof(*bus), bus_destructor);
	if (!bus)
		return ENOMEM;

	bus->store = mem_ref(store);
	bus->seq = evstore_last_seq(store);
	*busp = bus;

	return 0;
}


/**
 * Subscribe to every event published after now
 *
 * @param subp  Returned subscription; mem_deref() it to unsubscribe
 * @param bus   Event bus
 * @param h     Called with each event, in seq order
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int evbus_subscribe(struct evbus_sub **subp, struct evbus *bus,
		    evbus_h *h, void *arg)
{
	struct evbus_sub *sub;

	if (!subp || !bus || !h)
		return EINVAL;

	sub = mem_zalloc(sizeof(*sub), sub_destructor);
	if (!sub)
		return ENOMEM;

	sub->h = h;
	sub->arg = arg;
	list_append(&bus->subl, &sub->le, sub);

	*subp = sub;

	return 0;
}


static int envelope_encode(struct evrec *rec, json_t *data)
{
	json_t *env;
	int err;

	env = json_pack("{s:s, s:I, s:s, s:o, s:O}",
			"id", rec->id,
			"seq", (json_int_t)rec->ev.seq,
			"type", rec->type,
			"timestamp", jx_time(rec->ev.time_ms),
			"data", data);
	if (!env)
		return ENOMEM;

	err = jx_dumps(&rec->json, env);
	json_decref(env);

	return err;
}


/**
 * Publish an event: number it, store it, hand it to every subscriber
 *
 * @param bus   Event bus
 * @param type  Event type, e.g. "call.incoming"
 * @param data  The event's data object (reference stolen)
 *
 * @return 0 if success, otherwise errorcode
 */
int evbus_publish(struct evbus *bus, const char *type, json_t *data)
{
	struct evrec *rec;
	struct le *le;
	int err;

	if (!bus || !type || !data) {
		json_decref(data);
		return EINVAL;
	}

	rec = mem_zalloc(sizeof(*rec), evrec_destructor);
	if (!rec) {
		err = ENOMEM;
		goto out;
	}

	rec->ev.seq = bus->seq + 1;
	rec->ev.time_ms = sptime_now_ms();

	err  = randid_alloc(&rec->id, "evt_", 10);
	err |= str_dup(&rec->type, type);
	if (err)
		goto out;

	err = envelope_encode(rec, data);
	if (err)
		goto out;

	rec->ev.id = rec->id;
	rec->ev.type = rec->type;
	rec->ev.json = rec->json;

	bus->seq = rec->ev.seq;
	++bus->published;

	if (evstore_append(bus->store, &rec->ev))
		++bus->store_errors;

	/* a handler may unsubscribe itself: step before calling */
	le = list_head(&bus->subl);
	while (le) {
		struct evbus_sub *sub = le->data;

		le = le->next;
		sub->h(&rec->ev, sub->arg);
	}

 out:
	if (err)
		warning("evbus: %s not published: %m\n", type, err);
	mem_deref(rec);
	json_decref(data);

	return err;
}


/** The seq of the newest event (0 before the first) */
uint64_t evbus_last_seq(const struct evbus *bus)
{
	return bus ? bus->seq : 0;
}


/** How many events were published since start */
uint64_t evbus_published(const struct evbus *bus)
{
	return bus ? bus->published : 0;
}


/** Events the store could not write when published, since start */
uint64_t evbus_store_errors(const struct evbus *bus)
{
	return bus ? bus->store_errors : 0;
}


/** The event log (see evstore_list) */
int evbus_list(const struct evbus *bus, uint64_t after, size_t limit,
	       struct mbuf *mb, uint64_t *lastp)
{
	if (!bus)
		return EINVAL;

	return evstore_list(bus->store, after, limit, mb, lastp);
}
