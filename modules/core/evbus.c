/**
 * @file evbus.c  Event bus: every domain event is numbered, kept in the
 *                event log and handed to every subscriber, in order
 *
 * The envelope is serialized once, at publish time; subscribers (WS
 * clients, webhooks) and the event log share that one text.
 *
 * Threads: main thread only.
 */

#include <sys/random.h>
#include "sipphone.h"


struct evrec {
	struct le le;          /* in bus->logl, oldest first */
	struct evbus_event ev;
	char *id;
	char *type;
	char *json;
};

struct evbus {
	struct list logl;      /* struct evrec, at most keep */
	struct list subl;      /* struct evbus_sub           */
	size_t keep;
	uint64_t seq;          /* last seq given             */
	uint64_t published;
};

struct evbus_sub {
	struct le le;
	evbus_h *h;
	void *arg;
};


static void evrec_destructor(void *arg)
{
	struct evrec *rec = arg;

	list_unlink(&rec->le);
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

	list_flush(&bus->logl);

	/* subscribers outlive nothing: detach those still listening */
	while ((le = list_head(&bus->subl)))
		list_unlink(le);
}


/**
 * Create an event bus
 *
 * @param busp  Returned bus
 * @param keep  How many recent events the in-memory log keeps
 *
 * @return 0 if success, otherwise errorcode
 */
int evbus_alloc(struct evbus **busp, size_t keep)
{
	struct evbus *bus;

	if (!busp || !keep)
		return EINVAL;

	bus = mem_zalloc(sizeof(*bus), bus_destructor);
	if (!bus)
		return ENOMEM;

	bus->keep = keep;
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


static int event_id(char **idp)
{
	uint8_t rnd[10];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return EIO;

	return re_sdprintf(idp, "evt_%w", rnd, sizeof(rnd));
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
 * Publish an event: number it, log it, hand it to every subscriber
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

	err  = event_id(&rec->id);
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

	list_append(&bus->logl, &rec->le, rec);
	if (list_count(&bus->logl) > bus->keep)
		mem_deref(list_head(&bus->logl)->data);

	/* a handler may unsubscribe itself: step before calling */
	le = list_head(&bus->subl);
	while (le) {
		struct evbus_sub *sub = le->data;

		le = le->next;
		sub->h(&rec->ev, sub->arg);
	}

 out:
	if (err) {
		warning("evbus: %s not published: %m\n", type, err);
		mem_deref(rec);
	}
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


/**
 * Print logged events with seq > after, oldest first, as a comma-separated
 * list of envelopes (the inside of a JSON array)
 *
 * @param bus    Event bus
 * @param after  Only events newer than this seq
 * @param limit  At most this many
 * @param mb     Where to print
 * @param lastp  Returned seq of the last event printed (after if none)
 *
 * @return 0 if success, otherwise errorcode
 */
int evbus_list(const struct evbus *bus, uint64_t after, size_t limit,
	       struct mbuf *mb, uint64_t *lastp)
{
	struct le *le;
	uint64_t last = after;
	size_t n = 0;
	int err = 0;

	if (!bus || !mb)
		return EINVAL;

	for (le = list_head(&bus->logl); le && n < limit; le = le->next) {
		const struct evrec *rec = le->data;

		if (rec->ev.seq <= after)
			continue;

		err = mbuf_printf(mb, "%s%s", n ? "," : "", rec->json);
		if (err)
			break;

		last = rec->ev.seq;
		++n;
	}

	if (lastp)
		*lastp = last;

	return err;
}
