/**
 * @file gate.c  The gate: what reaches libre's SIP stack over UDP
 *
 * libre hands each datagram on a UDP socket to that socket's helpers
 * before its own handler decodes SIP, answers it and keeps a server
 * transaction for it (32 s for an answered non-INVITE). baresip 1.0.0's
 * user agent takes INVITEs in its own listener, ahead of any module's,
 * so a listener of ours comes too late for them; a helper does not. The
 * gate is a helper on each of baresip's SIP UDP sockets. For each
 * datagram, in this order:
 *
 *  1. Neither SIP nor STUN (libre's answers to STUN keep no state):
 *     dropped, counted. Up to 4 bytes (keep-alives) go to libre, which
 *     ignores them.
 *  2. Rate limit per source address (ratelim.c, httpctl_sip_rate): over
 *     it, dropped silently and counted, before libre spends a byte on
 *     it. A registered line's address gets ten times the limit and is
 *     not part of the strangers' shared bucket.
 *  3. A request whose top Via carries maddr: dropped, counted. libre
 *     sends its answer to a Via's maddr (RFC 3261 18.2.2), so any
 *     allowed host could have our answers sent to a third one; no phone
 *     sends it.
 *  4. With digest auth on (sipauth.c): an INVITE that starts a call must
 *     carry credentials of its From line. Without good ones it is
 *     answered here, statelessly (407 with a fresh challenge, 403, or
 *     400) and libre never sees it; its retransmissions get the same.
 *     The To tag of those answers is derived from the Call-ID and the
 *     branch, so the ACK that follows is recognized and absorbed without
 *     any state. Requests inside a dialog (a To tag) go through: libre
 *     and baresip match them to their dialogs.
 *
 * Finding the sockets: libre gives no way to them but struct sip_msg's
 * `sock`. At start and then every GATE_CHECK_MS the gate asks libre for
 * its UDP transport's local address of each family; for one it does not
 * guard yet, it sends from a socket of its own a stray SIP response
 * carrying a secret Call-ID to that address. No transaction wants it,
 * so it reaches our response listener, whose msg->sock is the socket to
 * guard. baresip replaces its sockets when the machine's address
 * changes (uag_reset_transp): the next check finds the new one.
 *
 * The socket owns the helper (its list holds it); we take a second
 * reference, because libre does not tell us when the socket goes: a
 * helper only we hold is one whose socket is gone. We never hold the
 * socket itself: that would keep its port bound, and baresip, which
 * binds the same port again after a reset, would fail.
 *
 * SIP over TCP and TLS does not pass here (libre owns those connections
 * and offers no helper on them): a REGISTER over TCP is still checked by
 * the registrar, an INVITE over TCP is not challenged (calls.c takes a
 * call only from the address its line registered from, which a TCP
 * peer cannot forge). libre drops a TCP request's transaction as soon
 * as it is answered, so a TCP flood leaves no state behind.
 *
 * Threads: main thread only (libre's UDP handlers run there).
 */

#include "sipphone.h"
#include "sip/sip.h"


enum {
	GATE_SOCKS = 4,        /* SIP UDP sockets watched at once         */
	GATE_LAYER = -1000,    /* helpers run lowest first: before any    */
	GATE_CHECK_MS = 5000,  /* looking for new sockets                 */
	PROBES_WARN = 3,       /* unanswered probes before a warning      */
	GATE_SOURCES = 1024,   /* source addresses the limiter remembers  */
	LOG_EVERY_MS = 10000,  /* a rate-limit warning at most this often */
	STARTLINE_MAX = 512,   /* further, a first line is not SIP's      */
};

enum kind {
	KIND_OTHER = 0,
	KIND_STUN,
	KIND_RESPONSE,
	KIND_REQUEST,
};

struct gate;

/* One SIP UDP socket we guard */
struct gsock {
	struct gate *gate;
	struct udp_helper *uh; /* two references while the socket lives */
	struct udp_sock *us;   /* not referenced: valid while uh is      */
	struct sa laddr;
};

struct gate {
	struct sip *sip;       /* baresip's; not referenced (see below)   */
	struct lines *lines;
	struct sipauth *auth;  /* NULL, or no line has a password: no
				  INVITE is challenged                    */
	struct ratelim *rl;    /* NULL: no rate limit                     */
	struct sip_lsnr *lsnr; /* our probes come back here               */
	struct gsock sockv[GATE_SOCKS];
	struct tmr tmr;
	char probe_id[33];     /* Call-ID of our probes                   */
	uint32_t probes;       /* sent since one last came back           */
	struct gate_stats stats;
	uint64_t log_at;       /* the last rate-limit warning             */
};


static bool gsock_alive(const struct gsock *gs)
{
	return gs->uh && mem_nrefs(gs->uh) > 1;
}


static void gsock_release(struct gsock *gs)
{
	/* while the socket lives, its own reference goes too: the
	   helper's destructor takes it off the socket's list */
	if (gsock_alive(gs))
		mem_deref(gs->uh);

	gs->uh = mem_deref(gs->uh);
	gs->us = NULL;
}


static void gate_destructor(void *arg)
{
	struct gate *g = arg;
	size_t i;

	tmr_cancel(&g->tmr);

	for (i = 0; i < GATE_SOCKS; i++)
		gsock_release(&g->sockv[i]);

	mem_deref(g->lsnr);
	mem_deref(g->rl);
	mem_deref(g->auth);
	mem_deref(g->lines);
}


static bool token_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || (c && strchr("-.!%*_+`'~", c));
}


/*
 * What a datagram looks like, from its first bytes only: a STUN header
 * (RFC 5389: two zero bits, the magic cookie), "SIP/2.0 " (a response)
 * or "METHOD SP Request-URI SP SIP/2.0" as its first line (a request)
 */
static enum kind classify(const uint8_t *p, size_t n)
{
	size_t i, eol;

	if (n >= 20 && (p[0] & 0xc0) == 0 && p[4] == 0x21 && p[5] == 0x12 &&
	    p[6] == 0xa4 && p[7] == 0x42)
		return KIND_STUN;

	if (n >= 8 && !memcmp(p, "SIP/2.0 ", 8))
		return KIND_RESPONSE;

	for (i = 0; i < n && token_char(p[i]); i++)
		;
	if (!i || i >= n || p[i] != ' ')
		return KIND_OTHER;

	for (eol = i; eol < n && eol < STARTLINE_MAX && p[eol] != '\n'; eol++)
		;
	if (eol >= n || p[eol] != '\n')
		return KIND_OTHER;

	if (eol > 0 && p[eol - 1] == '\r')
		--eol;

	if (eol < i + 10 || memcmp(p + eol - 8, " SIP/2.0", 8))
		return KIND_OTHER;

	return KIND_REQUEST;
}


/* Does "maddr" appear anywhere (case-insensitive)? Cheap: only then is
   the request decoded to look at its top Via */
static bool mentions_maddr(const uint8_t *p, size_t n)
{
	static const char word[] = "maddr";
	size_t i, j;

	for (i = 0; i + sizeof(word) - 1 <= n; i++) {
		for (j = 0; j < sizeof(word) - 1; j++) {
			if ((p[i + j] | 0x20) != word[j])
				break;
		}
		if (j == sizeof(word) - 1)
			return true;
	}

	return false;
}


/* Would libre send the answer to this request somewhere else than to
   where it came from? */
static bool via_maddr(struct mbuf *mb)
{
	struct sip_msg *msg = NULL;
	size_t pos = mb->pos;
	struct pl val;
	bool found;

	if (!mentions_maddr(mbuf_buf(mb), mbuf_get_left(mb)))
		return false;

	/* libre decodes the same bytes again: put them back as they were */
	if (sip_msg_decode(&msg, mb)) {
		mb->pos = pos;
		return false;
	}
	mb->pos = pos;

	found = 0 == msg_param_decode(&msg->via.params, "maddr", &val);
	mem_deref(msg);

	return found;
}


/* A registered line's address: its phone */
static bool trusted(const struct gate *g, const struct sa *src)
{
	struct le *le;

	LIST_FOREACH(lines_list(g->lines), le) {
		const struct line *l = le->data;

		if (l->registered && sa_cmp(&l->src, src, SA_ADDR))
			return true;
	}

	return false;
}


static bool to_tag_is(const struct sip_msg *msg, uint64_t tag)
{
	char want[17];

	if (re_snprintf(want, sizeof(want), "%016llx",
			(unsigned long long)tag) != 16)
		return false;

	return 0 == pl_strcasecmp(&msg->to.tag, want);
}


/*
 * An INVITE or ACK, with auth on: true if the gate answered (or
 * absorbed) it, false to hand it to libre
 */
static bool invite_gate(struct gsock *gs, const struct sa *src,
			struct mbuf *mb, uint64_t now)
{
	struct gate *g = gs->gate;
	enum sipauth_verdict v;
	struct sip_msg *msg = NULL;
	size_t pos = mb->pos;
	bool held = false;
	int err;

	/* libre decodes the same bytes again: put them back as they were */
	err = sip_msg_decode(&msg, mb);
	mb->pos = pos;
	if (err)
		return false;

	/* as libre's own UDP handler fills them in */
	msg->sock = mem_ref(gs->us);
	msg->src = *src;
	msg->dst = gs->laddr;
	msg->tp = SIP_TRANSP_UDP;

	if (0 == pl_strcmp(&msg->met, "ACK")) {
		held = pl_isset(&msg->to.tag) &&
			to_tag_is(msg, sipauth_tag(g->auth, msg));
		if (held)
			++g->stats.acks_absorbed;
		goto out;
	}

	if (pl_strcmp(&msg->met, "INVITE") || pl_isset(&msg->to.tag))
		goto out;

	v = sipauth_check(g->auth, msg, &msg->from.uri.user, now);
	if (v == SIPAUTH_OK)
		goto out;

	held = true;
	++g->stats.invites_answered;

	msg->tag = sipauth_tag(g->auth, msg);
	err = sipauth_reply(g->auth, g->sip, msg, v, now);
	if (err)
		warning("httpctl: answer to INVITE from %J failed: %m\n",
			src, err);

 out:
	mem_deref(msg);

	return held;
}


static bool recv_handler(struct sa *src, struct mbuf *mb, void *arg)
{
	struct gsock *gs = arg;
	struct gate *g = gs->gate;
	const uint8_t *p = mbuf_buf(mb);
	size_t n = mbuf_get_left(mb);
	uint64_t now;
	enum kind kind;

	++g->stats.received;

	if (n <= 4)
		return false;

	kind = classify(p, n);
	if (kind == KIND_OTHER) {
		++g->stats.dropped_not_sip;
		debug("httpctl: %zu bytes from %J on the SIP port: not SIP,"
		      " dropped\n", n, src);
		return true;
	}

	now = sipauth_now();

	if (g->rl && !ratelim_take(g->rl, src, trusted(g, src), now)) {
		++g->stats.dropped_rate;
		if (!g->log_at || now - g->log_at >= LOG_EVERY_MS) {
			warning("httpctl: SIP from %j over the rate limit:"
				" dropping (%llu dropped since start)\n", src,
				(unsigned long long)g->stats.dropped_rate);
			g->log_at = now;
		}
		return true;
	}

	if (kind != KIND_REQUEST)
		return false;

	if (via_maddr(mb)) {
		++g->stats.dropped_maddr;
		debug("httpctl: SIP request from %J with a Via maddr:"
		      " dropped\n", src);
		return true;
	}

	if (!sipauth_on(g->auth))
		return false;

	/* classify() saw a whole request line: n > 10 */
	if (memcmp(p, "INVITE ", 7) && memcmp(p, "ACK ", 4))
		return false;

	return invite_gate(gs, src, mb, now);
}


static struct gsock *gsock_find(struct gate *g, const struct udp_sock *us,
				const struct sa *laddr)
{
	size_t i;

	for (i = 0; i < GATE_SOCKS; i++) {
		struct gsock *gs = &g->sockv[i];

		if (!gsock_alive(gs))
			continue;

		if ((us && gs->us == us) ||
		    (laddr && sa_cmp(&gs->laddr, laddr, SA_ALL)))
			return gs;
	}

	return NULL;
}


static void gsock_add(struct gate *g, struct udp_sock *us,
		      const struct sa *laddr)
{
	struct gsock *gs = NULL;
	size_t i;
	int err;

	if (gsock_find(g, us, NULL))
		return;

	for (i = 0; i < GATE_SOCKS && !gs; i++) {
		if (!gsock_alive(&g->sockv[i])) {
			gs = &g->sockv[i];
			gsock_release(gs);
		}
	}

	if (!gs) {
		warning("httpctl: SIP gate: more than %u SIP sockets: %J is"
			" not guarded\n", GATE_SOCKS, laddr);
		return;
	}

	gs->gate = g;
	err = udp_register_helper(&gs->uh, us, GATE_LAYER, NULL,
				  recv_handler, gs);
	if (err) {
		warning("httpctl: SIP gate on %J: %m\n", laddr, err);
		gs->uh = NULL;
		return;
	}

	mem_ref(gs->uh);
	gs->us = us;
	gs->laddr = *laddr;

	info("httpctl: SIP gate on udp %J\n", laddr);
}


/* Our probe came back: its socket is one to guard */
static bool probe_handler(const struct sip_msg *msg, void *arg)
{
	struct gate *g = arg;

	if (msg->tp != SIP_TRANSP_UDP || !msg->sock ||
	    pl_strcmp(&msg->callid, g->probe_id))
		return false;

	g->probes = 0;
	gsock_add(g, msg->sock, &msg->dst);

	return true;
}


static void probe_send(struct gate *g, const struct sa *laddr)
{
	struct udp_sock *us = NULL;
	struct sa local, dst = *laddr;
	struct mbuf *mb;
	int err;

	/* a socket bound to "any" is reached over loopback */
	if (!sa_isset(&dst, SA_ADDR))
		(void)sa_set_str(&dst, sa_af(laddr) == AF_INET6 ? "::1" :
				 "127.0.0.1", sa_port(laddr));

	sa_init(&local, sa_af(&dst));

	mb = mbuf_alloc(512);
	if (!mb)
		return;

	err = mbuf_printf(mb, "SIP/2.0 200 OK\r\n"
			  "Via: SIP/2.0/UDP %J;branch=z9hG4bK%s\r\n"
			  "From: <sip:gate@invalid>;tag=gate\r\n"
			  "To: <sip:gate@invalid>;tag=gate\r\n"
			  "Call-ID: %s\r\n"
			  "CSeq: 1 OPTIONS\r\n"
			  "Content-Length: 0\r\n"
			  "\r\n", &dst, g->probe_id, g->probe_id);
	if (err)
		goto out;
	mb->pos = 0;

	err = udp_listen(&us, &local, NULL, NULL);
	if (err)
		goto out;

	err = udp_send(us, &dst, mb);

 out:
	if (err)
		warning("httpctl: SIP gate: probe to %J: %m\n", &dst, err);

	mem_deref(us);
	mem_deref(mb);
}


static void check_handler(void *arg)
{
	static const int afv[] = {AF_INET, AF_INET6};
	struct gate *g = arg;
	size_t i;

	tmr_start(&g->tmr, GATE_CHECK_MS, check_handler, g);

	/* at shutdown baresip frees its SIP stack before unloading us */
	if (uag_sip() != g->sip)
		return;

	for (i = 0; i < ARRAY_SIZE(afv); i++) {
		struct sa af, laddr;

		sa_init(&af, afv[i]);
		if (sip_transp_laddr(g->sip, &laddr, SIP_TRANSP_UDP, &af))
			continue;

		if (gsock_find(g, NULL, &laddr))
			continue;

		if (++g->probes == PROBES_WARN)
			warning("httpctl: SIP gate: no probe came back from"
				" %J: SIP there is not rate-limited, INVITEs"
				" not challenged\n", &laddr);

		probe_send(g, &laddr);
	}
}


/**
 * Put the gate in front of baresip's SIP stack
 *
 * @param gatep  Returned gate
 * @param sip    baresip's SIP stack (uag_sip())
 * @param lines  Line table: registered lines' addresses are trusted
 * @param cfg    Rate limit and authenticator (both referenced)
 *
 * @return 0 if success, otherwise errorcode
 */
int gate_alloc(struct gate **gatep, struct sip *sip, struct lines *lines,
	       const struct gate_cfg *cfg)
{
	struct gate *g;
	int err = 0;

	if (!gatep || !sip || !lines || !cfg)
		return EINVAL;

	g = mem_zalloc(sizeof(*g), gate_destructor);
	if (!g)
		return ENOMEM;

	/* not referenced: baresip frees it before unloading modules, and
	   flushing its listeners clears g->lsnr */
	g->sip = sip;
	g->lines = mem_ref(lines);
	g->auth = mem_ref(cfg->auth);
	rand_str(g->probe_id, sizeof(g->probe_id));

	if (cfg->rate.rate) {
		err = ratelim_alloc(&g->rl, &cfg->rate, GATE_SOURCES);
		if (err)
			goto out;
	}

	err = sip_listen(&g->lsnr, sip, false, probe_handler, g);
	if (err)
		goto out;

	tmr_start(&g->tmr, 0, check_handler, g);

	if (g->rl)
		info("httpctl: SIP rate limit %u/s, burst %u per source\n",
		     cfg->rate.rate, cfg->rate.burst);
	else
		info("httpctl: SIP rate limit off\n");

 out:
	if (err)
		mem_deref(g);
	else
		*gatep = g;

	return err;
}


/** What the gate counted since start */
void gate_stats(const struct gate *gate, struct gate_stats *st)
{
	size_t i;

	if (!st)
		return;

	memset(st, 0, sizeof(*st));
	if (!gate)
		return;

	*st = gate->stats;
	for (i = 0; i < GATE_SOCKS; i++)
		st->sockets += gsock_alive(&gate->sockv[i]);
	st->sources = ratelim_count(gate->rl);
}
