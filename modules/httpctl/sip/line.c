/**
 * @file line.c  The line table: one line per HT802 port, keyed by the user
 *               part of the address it registers ("100", "101")
 *
 * A line is created by its first REGISTER and stays known for a while
 * after its binding ends (httpctl_lines_keep), so that the API can show
 * a line that unregistered or expired (registered=false) with its last
 * contact. Each line holds one binding: the HT802 registers one Contact
 * per port, and a new Contact replaces the old one.
 *
 * Bounds: at most httpctl_lines_max lines, registered or not. A new line
 * beyond that takes the place of the line unregistered the longest; if
 * every line is registered, it is refused (EOVERFLOW: the registrar says
 * 503) and the lines that are there keep working. Lines are found by a
 * hash of their id; the list beside it keeps them sorted for the API.
 *
 * Events: line.registered when a line becomes registered or its contact
 * or source moves; line.unregistered (reason "unregister" or "expired").
 * A plain refresh publishes nothing.
 *
 * Ownership, without credentials: a live binding is changed or removed
 * only by a REGISTER from the address it registered from (the IP: an
 * HT802 that reboots may register from another port), unless the
 * REGISTER proved itself with credentials. Anyone else is refused until
 * the binding expires or its owner unregisters it: the refusal is
 * logged and published as line.takeover_refused, at most once a minute
 * per line and address, so that a flood of attempts does not flood the
 * event log.
 *
 * Restarts: every change of a line is written to the event store's
 * database (linestore.c) and read back at start. A binding that is still
 * running is restored with what is left of it, so the phone can be rung
 * at once; one that ran out while the service was down ends then, with
 * line.unregistered (reason "expired"), as if the service had been
 * there to see it.
 */

#include "sipphone.h"
#include "sip/sip.h"


enum {
	REFUSED_QUIET_MS = 60000,  /* one takeover event per line, address */
	USER_AGENT_MAX = 256,      /* bytes of a User-Agent kept           */
};

struct lines {
	struct list linel;     /* struct line, sorted by id */
	struct hash *ht;       /* struct line by id         */
	uint32_t n;            /* lines in the table now    */
	uint32_t max;          /* lines in all              */
	uint64_t keep_ms;      /* an unregistered line stays listed so long */
	struct evbus *bus;     /* where line events go, may be NULL */
	struct evstore *store; /* its database keeps the lines, or NULL */
	uint64_t refused;      /* takeovers refused since start */
	uint64_t full;         /* new lines refused: the table was full */
};


static void line_destructor(void *arg)
{
	struct line *line = arg;

	tmr_cancel(&line->tmr);
	if (line->lines && list_contains(&line->lines->linel, &line->le))
		--line->lines->n;
	list_unlink(&line->le);
	hash_unlink(&line->he);
	mem_deref(line->id);
	mem_deref(line->contact);
	mem_deref(line->dial_uri);
	mem_deref(line->user_agent);
}


static void lines_destructor(void *arg)
{
	struct lines *lines = arg;

	hash_clear(lines->ht);
	list_flush(&lines->linel);
	mem_deref(lines->ht);
	mem_deref(lines->bus);
	mem_deref(lines->store);
}


/* Written through; a failure is logged by the store, the line stands */
static void line_save(const struct line *line)
{
	if (line->lines->store)
		(void)linestore_save(evstore_db(line->lines->store), line);
}


/* Forgotten: the row goes too (not when the table is torn down) */
static void line_forget(struct line *line)
{
	if (line->lines->store)
		(void)linestore_delete(evstore_db(line->lines->store),
				       line->id);
	mem_deref(line);
}


static const char *transp_name(enum sip_transp tp)
{
	switch (tp) {

	case SIP_TRANSP_UDP: return "udp";
	case SIP_TRANSP_TCP: return "tcp";
	case SIP_TRANSP_TLS: return "tls";
	case SIP_TRANSP_WS:  return "ws";
	case SIP_TRANSP_WSS: return "wss";
	default:             return "unknown";
	}
}


/* "ip:port" ("[v6]:port"), or null before the first REGISTER */
static json_t *source_encode(const struct line *line)
{
	char buf[64];

	if (!sa_isset(&line->src, SA_ADDR))
		return json_null();

	if (re_snprintf(buf, sizeof(buf), "%J", &line->src) < 0)
		return NULL;

	return json_string(buf);
}


static void publish(struct lines *lines, const char *type, json_t *data)
{
	if (!lines->bus) {
		json_decref(data);
		return;
	}

	/* evbus logs its own failures; the binding stands either way */
	(void)evbus_publish(lines->bus, type, data);
}


static void publish_registered(struct line *line)
{
	json_t *data;

	data = json_object();
	if (!data)
		return;

	if (json_object_set_new(data, "line", json_string(line->id)) ||
	    json_object_set_new(data, "contact", utf8_json(line->contact)) ||
	    json_object_set_new(data, "source", source_encode(line)) ||
	    json_object_set_new(data, "user_agent",
				utf8_json(line->user_agent)) ||
	    json_object_set_new(data, "expires_s",
				json_integer(line_expires_left(line)))) {
		warning("httpctl: line %s: event not built\n", line->id);
		json_decref(data);
		return;
	}

	publish(line->lines, "line.registered", data);
}


static void publish_unregistered(struct line *line, const char *reason)
{
	json_t *data;

	data = json_pack("{s:s, s:s}", "line", line->id, "reason", reason);
	if (!data) {
		warning("httpctl: line %s: event not built\n", line->id);
		return;
	}

	publish(line->lines, "line.unregistered", data);
}


/*
 * Someone else asks to change a live binding: refuse. Said once a
 * minute per line and address; the count keeps every one.
 */
static int refuse(struct line *line, const struct sa *src, const char *what)
{
	uint64_t now = tmr_jiffies();
	json_t *data;
	char buf[64];

	++line->lines->refused;

	if (sa_cmp(&line->refused_src, src, SA_ADDR) &&
	    line->refused_at && now - line->refused_at < REFUSED_QUIET_MS) {
		debug("httpctl: line %s: %s from %J refused again\n",
		      line->id, what, src);
		return EPERM;
	}

	line->refused_src = *src;
	line->refused_at = now;

	warning("httpctl: line %s: %s from %J refused: the line is"
		" registered from %J\n", line->id, what, src, &line->src);

	if (re_snprintf(buf, sizeof(buf), "%J", src) < 0)
		return EPERM;

	data = json_pack("{s:s, s:s}", "line", line->id, "source", buf);
	if (!data) {
		warning("httpctl: line %s: event not built\n", line->id);
		return EPERM;
	}

	publish(line->lines, "line.takeover_refused", data);

	return EPERM;
}


/* May a request from src change this line's binding? */
static bool owner_is(const struct line *line, const struct sa *src,
		     bool authenticated)
{
	return !line->registered || authenticated ||
		sa_cmp(&line->src, src, SA_ADDR);
}


static void forget_handler(void *arg)
{
	struct line *line = arg;

	info("httpctl: line %s forgotten: unregistered for %llu s\n",
	     line->id, (unsigned long long)(line->lines->keep_ms / 1000));
	line_forget(line);
}


/* An unregistered line is forgotten keep_ms after its binding ended */
static void forget_start(struct line *line)
{
	uint64_t now = sptime_now_ms();
	uint64_t gone = now - min(line->unregistered_at, now);
	uint64_t keep = line->lines->keep_ms;

	tmr_start(&line->tmr, keep > gone ? keep - gone : 0,
		  forget_handler, line);
}


/* The binding ended at `when` (unix ms); the line stays listed */
static void line_unregister(struct line *line, uint64_t when)
{
	line->registered = false;
	line->expires = 0;
	line->expires_at = 0;
	line->unregistered_at = when;
	forget_start(line);
	line_save(line);
}


static void expire_handler(void *arg)
{
	struct line *line = arg;

	line_unregister(line, sptime_now_ms());

	info("httpctl: line %s expired (contact %s from %J)\n",
	     line->id, line->contact, &line->src);

	publish_unregistered(line, "expired");
}


static bool id_cmp(struct le *le, void *arg)
{
	const struct line *line = le->data;

	return 0 == str_cmp(line->id, arg);
}


/* The line unregistered the longest, or NULL if all are registered */
static struct line *oldest_unregistered(const struct lines *lines)
{
	struct line *oldest = NULL;
	struct le *le;

	LIST_FOREACH(&lines->linel, le) {
		struct line *line = le->data;

		if (line->registered)
			continue;

		if (!oldest || line->unregistered_at < oldest->unregistered_at)
			oldest = line;
	}

	return oldest;
}


/* Room for one more line: forget the oldest unregistered one if full */
static int room_make(struct lines *lines)
{
	struct line *oldest;

	if (lines->n < lines->max)
		return 0;

	oldest = oldest_unregistered(lines);
	if (!oldest)
		return EOVERFLOW;

	info("httpctl: line %s forgotten to make room (%u lines)\n",
	     oldest->id, lines->max);
	line_forget(oldest);

	return 0;
}


static int line_alloc(struct line **linep, struct lines *lines,
		      const char *id)
{
	struct line *line;
	struct le *le;
	int err;

	err = room_make(lines);
	if (err) {
		++lines->full;
		return err;
	}

	line = mem_zalloc(sizeof(*line), line_destructor);
	if (!line)
		return ENOMEM;

	err = str_dup(&line->id, id);
	if (err) {
		mem_deref(line);
		return err;
	}

	line->lines = lines;
	line->tp = SIP_TRANSP_NONE;
	tmr_init(&line->tmr);

	/* keep the list sorted, so the API lists lines in a stable order */
	LIST_FOREACH(&lines->linel, le) {
		const struct line *l = le->data;

		if (str_cmp(l->id, id) > 0)
			break;
	}

	if (le)
		list_insert_before(&lines->linel, le, &line->le, line);
	else
		list_append(&lines->linel, &line->le, line);
	++lines->n;

	hash_append(lines->ht, hash_joaat_str(id), &line->he, line);

	*linep = line;

	return 0;
}


static uint16_t uri_port(const struct uri *uri, enum sip_transp tp)
{
	struct pl transport;

	if (uri->port)
		return uri->port;

	if (!pl_strcasecmp(&uri->scheme, "sips") || tp == SIP_TRANSP_TLS)
		return 5061;

	if (!msg_param_decode(&uri->params, "transport", &transport) &&
	    !pl_strcasecmp(&transport, "tls"))
		return 5061;

	return 5060;
}


/*
 * The URI parameters without maddr: libre sends a request to a URI's
 * maddr rather than its host, and the INVITE (and the call's audio
 * with it) must go to the phone, nowhere else
 */
static int params_print(struct re_printf *pf, const struct pl *params)
{
	const char *p = params->p, *end = params->p + params->l;
	int err = 0;

	/* params is ";a=b;c..." as uri_decode() leaves it */
	while (p < end && !err) {
		const char *q = p + 1;
		struct pl name;

		while (q < end && *q != ';')
			++q;

		name.p = p + 1;
		name.l = 0;
		while (name.p + name.l < q && name.p[name.l] != '=')
			++name.l;

		if (pl_strcasecmp(&name, "maddr"))
			err = pf->vph(p, (size_t)(q - p), pf->arg);

		p = q;
	}

	return err;
}


/*
 * Where an INVITE to the phone goes.
 *
 * The Contact URI as sent, unless the phone is behind NAT: if the
 * Contact's host:port is not where the REGISTER came from, the phone
 * cannot be reached at the Contact, so the same URI is used with its
 * host:port replaced by the REGISTER's source address. A Contact with a
 * host name counts as different. Over TCP/TLS/WS only the address is
 * compared: the source port of a connection is never the port the phone
 * listens on, and when the address differs the rewritten URI names the
 * phone's own connection, which libre's SIP stack reuses.
 *
 * Never followed, whatever the Contact says: a maddr parameter and URI
 * headers (a Route header there would be a route elsewhere).
 */
static int dial_uri_make(char **urip, const char *contact,
			 const struct sa *src, enum sip_transp tp)
{
	struct mbuf *params;
	struct uri uri;
	struct pl pl;
	struct sa host;
	char addr[64];
	bool same;
	int err;

	pl_set_str(&pl, contact);

	/* uri_decode() says ENOENT for "no match": not our caller's word */
	if (uri_decode(&uri, &pl))
		return EINVAL;

	if (sa_set(&host, &uri.host, uri_port(&uri, tp))) {
		same = false;
	}
	else if (tp == SIP_TRANSP_UDP) {
		same = sa_cmp(&host, src, SA_ALL);
	}
	else {
		same = sa_cmp(&host, src, SA_ADDR);
	}

	if (!same) {
		if (sa_ntop(src, addr, sizeof(addr)))
			return EINVAL;

		pl_set_str(&uri.host, addr);
		uri.af = sa_af(src);
		uri.port = sa_port(src);
	}

	params = mbuf_alloc(uri.params.l + 1);
	if (!params)
		return ENOMEM;

	err = mbuf_printf(params, "%H", params_print, &uri.params);
	if (err)
		goto out;

	uri.params.p = (const char *)params->buf;
	uri.params.l = params->end;
	uri.headers.l = 0;

	err = re_sdprintf(urip, "%H", uri_encode, &uri);

 out:
	mem_deref(params);

	return err;
}


/* A line as it was when the service stopped */
static int restore_handler(const struct linestore_row *row, void *arg)
{
	struct lines *lines = arg;
	uint64_t now = sptime_now_ms();
	struct line *line;
	int err;

	err = line_alloc(&line, lines, row->id);
	if (err == EOVERFLOW) {
		/* httpctl_lines_max was lowered: registered ones come first */
		warning("httpctl: line %s not restored: httpctl_lines_max"
			" is %u\n", row->id, lines->max);
		(void)linestore_delete(evstore_db(lines->store), row->id);
		return 0;
	}
	if (err)
		return err;

	err  = str_dup(&line->contact, row->contact);
	err |= str_dup(&line->user_agent, row->user_agent ?
		       row->user_agent : "");
	if (err)
		goto out;

	if (dial_uri_make(&line->dial_uri, row->contact, &row->src,
			  row->tp)) {
		warning("httpctl: line %s: stored contact '%s' unusable:"
			" not restored\n", row->id, row->contact);
		line_forget(line);
		return 0;
	}

	line->src = row->src;
	line->tp = row->tp;
	line->registered_at = row->registered_at;
	line->last_register_at = row->last_register_at;

	if (row->registered && row->expires_at > now) {
		uint64_t left = row->expires_at - now;

		line->registered = true;
		line->expires = row->expires;
		line->expires_at = tmr_jiffies() + left;
		tmr_start(&line->tmr, left, expire_handler, line);

		info("httpctl: line %s restored: %s from %J/%s,"
		     " %llu s left\n", line->id, line->contact, &line->src,
		     transp_name(line->tp), (unsigned long long)(left / 1000));
	}
	else if (row->registered) {
		/* it ran out while we were down: it ends now, as then */
		line_unregister(line, row->expires_at);

		info("httpctl: line %s expired while the service was down"
		     " (contact %s from %J)\n", line->id, line->contact,
		     &line->src);

		publish_unregistered(line, "expired");
	}
	else {
		line->unregistered_at = row->unregistered_at;
		forget_start(line);
	}

 out:
	/* out of memory: the row stays for the next start */
	if (err)
		mem_deref(line);

	return err;
}


/**
 * Create a line table, with the lines of the last run if there is a store
 *
 * @param linesp  Returned line table
 * @param bus     Event bus for line events (referenced), or NULL
 * @param store   Event store whose database keeps the lines (referenced),
 *                or NULL: nothing is kept across restarts
 * @param cfg     Bounds, or NULL for the defaults (64 lines, an
 *                unregistered line forgotten after a day)
 *
 * @return 0 if success, otherwise errorcode
 */
int lines_alloc(struct lines **linesp, struct evbus *bus,
		struct evstore *store, const struct lines_cfg *cfg)
{
	struct lines *lines;
	int err;

	if (!linesp || (cfg && !cfg->max) || (store && !evstore_db(store)))
		return EINVAL;

	lines = mem_zalloc(sizeof(*lines), lines_destructor);
	if (!lines)
		return ENOMEM;

	lines->max = cfg ? cfg->max : LINES_MAX_DFLT;
	lines->keep_ms = (uint64_t)(cfg ? cfg->keep_s : LINES_KEEP_DFLT) * 1000;
	lines->bus = mem_ref(bus);

	err = hash_alloc(&lines->ht, hash_valid_size(lines->max));
	if (err || !store)
		goto out;

	lines->store = mem_ref(store);

	err = linestore_open(evstore_db(store));
	if (err)
		goto out;

	err = linestore_load(evstore_db(store), restore_handler, lines);
	if (err)
		goto out;

	if (!list_isempty(&lines->linel))
		info("httpctl: %u lines restored, %zu registered\n",
		     lines->n,
		     lines_registered_count(lines));

 out:
	if (err)
		mem_deref(lines);
	else
		*linesp = lines;

	return err;
}


/**
 * Create or refresh a line's binding from a REGISTER
 *
 * Publishes line.registered when the line becomes registered or its
 * contact or source changes; a refresh only restarts the expiry timer.
 *
 * @param lines  Line table
 * @param id     Line id (user part of the To URI)
 * @param b      The binding; expires must be > 0 (use lines_unbind)
 *
 * @return 0 if success, otherwise errorcode
 */
int lines_bind(struct lines *lines, const char *id,
	       const struct line_binding *b)
{
	struct line *line;
	char *contact = NULL, *dial_uri = NULL, *ua = NULL;
	uint64_t now;
	bool fresh, moved;
	int err;

	if (!lines || !str_isset(id) || !b || !str_isset(b->contact) ||
	    !b->src || !b->expires)
		return EINVAL;

	/* everything that can fail comes before the line changes */
	err = str_dup(&contact, b->contact);
	if (err)
		goto out;

	err = dial_uri_make(&dial_uri, b->contact, b->src, b->tp);
	if (err)
		goto out;

	/* shown in the API, events and logs: valid UTF-8, and not a
	   whole datagram of it */
	err = utf8_clean(&ua, b->user_agent,
			 min(str_len(b->user_agent), (size_t)USER_AGENT_MAX));
	if (err)
		goto out;

	line = lines_find(lines, id);
	if (line && !owner_is(line, b->src, b->authenticated)) {
		err = refuse(line, b->src, "REGISTER");
		goto out;
	}

	if (!line) {
		err = line_alloc(&line, lines, id);
		if (err)
			goto out;
	}

	fresh = !line->registered;
	moved = !fresh && (str_cmp(line->contact, contact) ||
			   !sa_cmp(&line->src, b->src, SA_ALL) ||
			   line->tp != b->tp);

	mem_deref(line->contact);
	mem_deref(line->dial_uri);
	mem_deref(line->user_agent);
	line->contact = contact;
	line->dial_uri = dial_uri;
	line->user_agent = ua;
	contact = dial_uri = ua = NULL;

	line->src = *b->src;
	line->tp = b->tp;
	line->unregistered_at = 0;
	line->expires = b->expires;
	line->expires_at = tmr_jiffies() + (uint64_t)b->expires * 1000;
	line->registered = true;

	now = sptime_now_ms();
	if (fresh)
		line->registered_at = now;
	line->last_register_at = now;

	tmr_start(&line->tmr, (uint64_t)b->expires * 1000,
		  expire_handler, line);
	line_save(line);

	if (fresh || moved) {
		info("httpctl: line %s registered: %s from %J/%s"
		     " (%u s, \"%s\")\n", line->id, line->contact, &line->src,
		     transp_name(line->tp), line->expires, line->user_agent);

		if (str_cmp(line->contact, line->dial_uri))
			info("httpctl: line %s: Contact is not where it"
			     " registers from (NAT?), calls go to %s\n",
			     line->id, line->dial_uri);

		publish_registered(line);
	}
	else {
		debug("httpctl: line %s refreshed (%u s)\n",
		      line->id, line->expires);
	}

 out:
	mem_deref(contact);
	mem_deref(dial_uri);
	mem_deref(ua);

	return err;
}


/**
 * Remove a line's binding (REGISTER with expiry 0)
 *
 * The line stays known with registered=false. A contact that is not the
 * current binding changes nothing (a late unregister of an old Contact).
 *
 * @param lines    Line table
 * @param id       Line id
 * @param contact  Contact URI to remove, or NULL for all ("Contact: *")
 * @param src      Where the request came from
 * @param authenticated  The request proved itself with credentials
 *
 * @return 0 if done or nothing to do, EPERM if src may not (the binding
 *         is someone else's: refused, logged and published)
 */
int lines_unbind(struct lines *lines, const char *id, const char *contact,
		 const struct sa *src, bool authenticated)
{
	struct line *line;

	if (!src)
		return EINVAL;

	line = lines_find(lines, id);
	if (!line || !line->registered)
		return 0;

	if (!owner_is(line, src, authenticated))
		return refuse(line, src, "unregister");

	if (contact && str_cmp(contact, line->contact)) {
		debug("httpctl: line %s: unregister of %s ignored,"
		      " bound to %s\n", line->id, contact, line->contact);
		return 0;
	}

	line_unregister(line, sptime_now_ms());

	info("httpctl: line %s unregistered (contact %s from %J)\n",
	     line->id, line->contact, &line->src);

	publish_unregistered(line, "unregister");

	return 0;
}


/** How many takeovers of a live line were refused since start */
uint64_t lines_refused_count(const struct lines *lines)
{
	return lines ? lines->refused : 0;
}


/** How many new lines were refused since start: the table was full */
uint64_t lines_full_count(const struct lines *lines)
{
	return lines ? lines->full : 0;
}


/**
 * Find a line by id
 *
 * @param lines  Line table
 * @param id     Line id
 *
 * @return the line, or NULL if no REGISTER named it (or it was forgotten)
 */
struct line *lines_find(const struct lines *lines, const char *id)
{
	struct le *le;

	if (!lines || !id)
		return NULL;

	le = hash_lookup(lines->ht, hash_joaat_str(id), id_cmp, (void *)id);

	return le ? le->data : NULL;
}


/** Every known line (struct line), sorted by id */
struct list *lines_list(struct lines *lines)
{
	return lines ? &lines->linel : NULL;
}


/** How many lines are registered now */
size_t lines_registered_count(const struct lines *lines)
{
	struct le *le;
	size_t n = 0;

	if (!lines)
		return 0;

	LIST_FOREACH(&lines->linel, le) {
		const struct line *line = le->data;

		if (line->registered)
			++n;
	}

	return n;
}


/** The registered line with the lowest id, or NULL if none */
struct line *lines_first_registered(const struct lines *lines)
{
	struct le *le;

	if (!lines)
		return NULL;

	LIST_FOREACH(&lines->linel, le) {
		struct line *line = le->data;

		if (line->registered)
			return line;
	}

	return NULL;
}


/**
 * Seconds until a line's binding runs out, rounded up so that a fresh
 * binding shows its full expiry
 *
 * @param line  Line
 *
 * @return seconds left, 0 if not registered
 */
uint32_t line_expires_left(const struct line *line)
{
	uint64_t now;

	if (!line || !line->registered)
		return 0;

	now = tmr_jiffies();
	if (now >= line->expires_at)
		return 0;

	return (uint32_t)((line->expires_at - now + 999) / 1000);
}


/** The API name of a line state */
const char *line_state_name(enum line_state st)
{
	switch (st) {

	case LINE_IDLE:    return "idle";
	case LINE_RINGING: return "ringing";
	case LINE_IN_CALL: return "in_call";
	default:           return "unknown";
	}
}


/**
 * Encode a line as the API's line object
 *
 * contact, source, user_agent and transport are null before the first
 * REGISTER; after an unregister they keep the last binding's values.
 *
 * @param line     Line
 * @param state    The line's call state (from the call table)
 * @param call_id  The line's current call, or NULL
 *
 * @return new JSON object, or NULL if out of memory
 */
json_t *line_encode(const struct line *line, enum line_state state,
		    const char *call_id)
{
	json_t *obj;

	if (!line)
		return NULL;

	obj = json_object();
	if (!obj)
		return NULL;

	if (json_object_set_new(obj, "id", json_string(line->id)) ||
	    json_object_set_new(obj, "registered",
				json_boolean(line->registered)) ||
	    json_object_set_new(obj, "contact", utf8_json(line->contact)) ||
	    json_object_set_new(obj, "source", source_encode(line)) ||
	    json_object_set_new(obj, "user_agent",
				utf8_json(line->user_agent)) ||
	    json_object_set_new(obj, "expires_s",
				json_integer(line_expires_left(line))) ||
	    json_object_set_new(obj, "state",
				json_string(line_state_name(state))) ||
	    json_object_set_new(obj, "call", jx_str(call_id)) ||
	    json_object_set_new(obj, "registered_at",
				jx_time(line->registered_at)) ||
	    json_object_set_new(obj, "last_register_at",
				jx_time(line->last_register_at)) ||
	    json_object_set_new(obj, "transport",
				jx_str(line->contact ?
				       transp_name(line->tp) : NULL))) {
		json_decref(obj);
		return NULL;
	}

	return obj;
}
