/**
 * @file sipauth.c  SIP digest authentication of the lines
 *
 * httpctl_sip_auth gives lines passwords. Once any line has one, every
 * REGISTER (registrar.c) and every new INVITE from a phone (gate.c) must
 * carry credentials of the line it names (To user of a REGISTER, From
 * user of an INVITE), the digest username being the line itself (on the
 * HT802: "Authenticate ID" empty or equal to "SIP User ID"). A user
 * with no password gets exactly what a line with one gets: the same
 * challenge, the same work (a digest computed against a random HA1),
 * then the same 403. So a scan learns nothing about which lines exist.
 *
 * Verdicts, in the order they are decided:
 *  - no credentials for our realm (or an algorithm or qop we do not do):
 *    challenge (401 to REGISTER, 407 to INVITE);
 *  - credentials that do not parse: 400;
 *  - from an address that gave 10 wrong answers this minute: 403,
 *    whatever the answer (see below);
 *  - another username than the line, or a wrong response: 403;
 *  - the right response on a nonce that is not ours, is older than
 *    httpctl_sip_nonce_ttl, or was used with that nonce-count before:
 *    challenge with stale=true (the client answers again, unprompted);
 *  - else good.
 *
 * Nonces carry their birth time and a MAC (digest.c): nothing is kept
 * per challenge. What is kept is, per nonce that authenticated a
 * request, the highest nonce-count seen and the request it came with (a
 * retransmission of that very request, within 32 s, is no replay). The
 * table is bounded: when full, the entry used longest ago goes, and
 * every nonce born no later than it counts as used from then on, so an
 * eviction can only cost a client one more challenge, never let a
 * replay through. A nonce without qop carries no count: it is good once.
 *
 * Guessing is slowed down for any transport (the gate's rate limit holds
 * only for UDP): an address that gave 10 wrong answers within a minute
 * gets 403 for any credentials, right or wrong, until that minute is
 * over, without a log line each (64 addresses are watched; a new one
 * takes the oldest's place).
 *
 * Only HA1 is kept, for each algorithm, not the password.
 *
 * Threads: main thread only.
 */

#include <ctype.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "sipphone.h"
#include "sip/sip.h"


enum {
	KEY_LEN = 32,
	LINE_ID_MAX = 32,      /* as regmsg.c takes a line id             */
	USED_MAX = 256,        /* nonces remembered after use             */
	RETRANS_MS = 32000,    /* 64*T1: a request's retransmissions      */
	FAILS_MAX = 10,        /* wrong answers an address may give ...   */
	FAILS_WINDOW_MS = 60000,  /* ... in a minute                      */
	FAILERS = 64,          /* addresses whose failures are counted    */
};

/* One line's credentials */
struct cred {
	struct le le;
	char line[LINE_ID_MAX + 1];
	char ha1[DIGEST_ALGS][DIGEST_HEX_MAX + 1];
};

/* A nonce that authenticated a request */
struct used {
	char nonce[DIGEST_NONCE_LEN];
	uint64_t born;         /* its birth time                          */
	uint64_t last;         /* its last use (which to forget first)    */
	uint64_t at;           /* when nc was taken                       */
	uint32_t nc;           /* highest nonce-count taken               */
	uint32_t req;          /* hash of the request nc came with        */
	bool set;
};

/* Wrong answers from one address, in the window that began at since */
struct failer {
	struct sa addr;
	uint64_t since;
	uint32_t n;
	bool set;
};

struct sipauth {
	struct list credl;
	char *realm;
	uint8_t key[KEY_LEN];
	uint64_t mask;         /* hides our clock (the uptime) in nonces  */
	char dummy[DIGEST_ALGS][DIGEST_HEX_MAX + 1];  /* HA1 of nobody    */
	uint64_t ttl;          /* ms                                      */
	bool sha256;
	struct used usedv[USED_MAX];
	uint64_t floor;        /* nonces born until then count as used    */
	struct failer failv[FAILERS];
	struct sipauth_stats stats;
};


static void auth_destructor(void *arg)
{
	struct sipauth *auth = arg;

	list_flush(&auth->credl);
	mem_deref(auth->realm);
	OPENSSL_cleanse(auth->key, sizeof(auth->key));
}


static void cred_destructor(void *arg)
{
	struct cred *c = arg;

	list_unlink(&c->le);
	OPENSSL_cleanse(c->ha1, sizeof(c->ha1));
}


/** Now, ms of the monotonic clock every time here is on */
uint64_t sipauth_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);

	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}


static bool line_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("._-+*#", c));
}


/* Also what a challenge may carry between quotes */
static bool realm_valid(const char *realm)
{
	size_t i, n = str_len(realm);

	if (!n || n > 128)
		return false;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)realm[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			return false;
	}

	return true;
}


/**
 * Make an authenticator, with no line's credentials yet
 *
 * @param authp  Returned authenticator
 * @param cfg    Realm (a valid quoted-string content), nonce lifetime
 *               (s, not 0) and whether to offer SHA-256
 *
 * @return 0 if success, otherwise errorcode
 */
int sipauth_alloc(struct sipauth **authp, const struct sipauth_cfg *cfg)
{
	struct sipauth *auth;
	uint8_t junk[KEY_LEN];
	struct pl realm, nobody;
	size_t a;
	int err;

	if (!authp || !cfg || !realm_valid(cfg->realm) || !cfg->nonce_ttl)
		return EINVAL;

	auth = mem_zalloc(sizeof(*auth), auth_destructor);
	if (!auth)
		return ENOMEM;

	err = str_dup(&auth->realm, cfg->realm);
	if (err)
		goto out;

	auth->ttl = (uint64_t)cfg->nonce_ttl * 1000;
	auth->sha256 = cfg->sha256;
	rand_bytes(auth->key, sizeof(auth->key));
	auth->mask = rand_u64();

	/* a user without a password costs the same as one with: its
	   digest is checked against a random secret */
	rand_bytes(junk, sizeof(junk));
	pl_set_str(&realm, auth->realm);
	nobody.p = (const char *)junk;
	nobody.l = sizeof(junk);
	for (a = 0; a < DIGEST_ALGS && !err; a++)
		err = digest_ha1(auth->dummy[a], (enum digest_alg)a, &nobody,
				 &realm, &nobody);

 out:
	if (err)
		mem_deref(auth);
	else
		*authp = auth;

	return err;
}


static struct cred *cred_find(const struct sipauth *auth,
			      const struct pl *line)
{
	struct cred *found = NULL;
	struct le *le;

	/* no early exit: the time does not tell how far down it was */
	LIST_FOREACH(&auth->credl, le) {
		struct cred *c = le->data;

		if (!found && 0 == pl_strcmp(line, c->line))
			found = c;
	}

	return found;
}


/**
 * Give a line a password
 *
 * @param auth   Authenticator
 * @param entry  "<line>:<password>" (the password may hold ':')
 *
 * @return 0 if success; EINVAL if the line id is not one (1-32 of
 *         0-9 a-z A-Z . _ - + * #) or the password is empty; EALREADY
 *         if the line has one already
 */
int sipauth_add(struct sipauth *auth, const struct pl *entry)
{
	struct pl line, pass, realm;
	const char *colon;
	struct cred *c;
	size_t i, a;
	int err = 0;

	if (!auth || !entry)
		return EINVAL;

	colon = pl_strchr(entry, ':');
	if (!colon)
		return EINVAL;

	line.p = entry->p;
	line.l = (size_t)(colon - entry->p);
	pass.p = colon + 1;
	pass.l = entry->l - line.l - 1;

	if (!line.l || line.l > LINE_ID_MAX || !pass.l)
		return EINVAL;

	for (i = 0; i < line.l; i++) {
		if (!line_char(line.p[i]))
			return EINVAL;
	}

	if (cred_find(auth, &line))
		return EALREADY;

	c = mem_zalloc(sizeof(*c), cred_destructor);
	if (!c)
		return ENOMEM;

	(void)pl_strcpy(&line, c->line, sizeof(c->line));
	pl_set_str(&realm, auth->realm);

	for (a = 0; a < DIGEST_ALGS && !err; a++)
		err = digest_ha1(c->ha1[a], (enum digest_alg)a, &line, &realm,
				 &pass);

	if (err) {
		mem_deref(c);
		return err;
	}

	list_append(&auth->credl, &c->le, c);

	return 0;
}


/** Whether any line has a password: then every line must authenticate */
bool sipauth_on(const struct sipauth *auth)
{
	return auth && !list_isempty(&auth->credl);
}


/* The first credentials for our realm, of either header */
struct find {
	const struct sipauth *auth;
	struct digest_cred *cred;
	int err;               /* of the last that did not decode         */
};


static bool cred_handler(const struct sip_hdr *hdr,
			 const struct sip_msg *msg, void *arg)
{
	struct find *f = arg;
	int err;
	(void)msg;

	err = digest_cred_decode(f->cred, &hdr->val);
	if (err) {
		f->err = err;
		return false;
	}

	return 0 == pl_strcmp(&f->cred->realm, f->auth->realm);
}


static int cred_get(const struct sipauth *auth, const struct sip_msg *msg,
		    struct digest_cred *cred)
{
	struct find f = {auth, cred, 0};

	if (sip_msg_hdr_apply(msg, true, SIP_HDR_AUTHORIZATION,
			      cred_handler, &f))
		return 0;

	if (sip_msg_hdr_apply(msg, true, SIP_HDR_PROXY_AUTHORIZATION,
			      cred_handler, &f))
		return 0;

	/* nothing usable; a bad header makes it a bad request, one in a
	   form we do not speak asks for a challenge */
	return f.err == EBADMSG ? EBADMSG : ENOENT;
}


/* Retransmissions of one request have these in common */
static uint32_t req_hash(const struct sip_msg *msg)
{
	return hash_joaat_pl(&msg->callid) ^
		(hash_joaat_pl(&msg->via.branch) * 31) ^ msg->cseq.num;
}


static struct used *used_find(struct sipauth *auth, const struct pl *nonce)
{
	size_t i;

	for (i = 0; i < USED_MAX; i++) {
		struct used *u = &auth->usedv[i];

		if (u->set && !memcmp(u->nonce, nonce->p, DIGEST_NONCE_LEN))
			return u;
	}

	return NULL;
}


/* A free slot: an empty one, an expired one, or the one used longest
   ago (and then every nonce born until its own counts as used) */
static struct used *used_new(struct sipauth *auth, uint64_t now)
{
	struct used *oldest = NULL;
	size_t i;

	for (i = 0; i < USED_MAX; i++) {
		struct used *u = &auth->usedv[i];

		if (!u->set || now - u->born > auth->ttl)
			return u;

		if (!oldest || u->last < oldest->last)
			oldest = u;
	}

	if (oldest->born > auth->floor)
		auth->floor = oldest->born;

	return oldest;
}


/* Whether this use of a genuine, fresh nonce is new */
static bool nonce_take(struct sipauth *auth, const struct sip_msg *msg,
		       const struct digest_cred *cred, uint64_t born,
		       uint64_t now)
{
	uint32_t req = req_hash(msg);
	struct used *u = used_find(auth, &cred->nonce);

	if (!u) {
		if (born <= auth->floor)
			return false;

		u = used_new(auth, now);
		memcpy(u->nonce, cred->nonce.p, DIGEST_NONCE_LEN);
		u->born = born;
		u->set = true;
	}
	else if (cred->ncount > u->nc) {
		/* the next request on this nonce */
	}
	else if (cred->ncount == u->nc && req == u->req &&
		 now - u->at <= RETRANS_MS) {
		u->last = now;
		return true;
	}
	else {
		return false;
	}

	u->nc = cred->ncount;
	u->req = req;
	u->at = now;
	u->last = now;

	return true;
}


static struct failer *failer_find(struct sipauth *auth, const struct sa *src,
				  uint64_t now)
{
	size_t i;

	for (i = 0; i < FAILERS; i++) {
		struct failer *f = &auth->failv[i];

		if (!f->set || !sa_cmp(&f->addr, src, SA_ADDR))
			continue;

		if (now < f->since || now - f->since > FAILS_WINDOW_MS)
			f->set = false;

		return f->set ? f : NULL;
	}

	return NULL;
}


/* Whether an address gave FAILS_MAX wrong answers this minute */
static bool locked_out(struct sipauth *auth, const struct sa *src,
		       uint64_t now)
{
	const struct failer *f = failer_find(auth, src, now);

	return f && f->n >= FAILS_MAX;
}


static void fail_note(struct sipauth *auth, const struct sa *src,
		      uint64_t now)
{
	struct failer *f = failer_find(auth, src, now);
	size_t i;

	if (!f) {
		/* a free slot, or the one whose window began first */
		f = &auth->failv[0];
		for (i = 0; i < FAILERS && f->set; i++) {
			struct failer *g = &auth->failv[i];

			if (!g->set || g->since < f->since)
				f = g;
		}

		memset(f, 0, sizeof(*f));
		sa_cpy(&f->addr, src);
		f->since = now;
		f->set = true;
	}

	if (++f->n == FAILS_MAX)
		warning("httpctl: %j gave %u wrong SIP credentials in a"
			" minute: refusing its credentials for the rest of"
			" it\n", src, FAILS_MAX);
}


static enum sipauth_verdict verdict_of(struct sipauth *auth,
				       const struct sip_msg *msg,
				       const struct pl *user, uint64_t now)
{
	struct digest_cred cred;
	const struct cred *c;
	const char *ha1;
	uint64_t born;
	bool good;
	int err;

	err = cred_get(auth, msg, &cred);
	if (err == ENOENT)
		return SIPAUTH_CHALLENGE;
	else if (err)
		return SIPAUTH_BAD;

	/* guessing is slow: no answer from this address is even looked at
	   once it gave too many wrong ones */
	if (locked_out(auth, &msg->src, now))
		return SIPAUTH_LOCKED;

	c = cred_find(auth, &cred.username);
	ha1 = c ? c->ha1[cred.alg] : auth->dummy[cred.alg];

	/* both always computed: the answer takes as long for anyone */
	good = digest_verify(&cred, &msg->met, ha1);
	if (!c || !good || pl_cmp(&cred.username, user)) {
		fail_note(auth, &msg->src, now);
		return SIPAUTH_FORBIDDEN;
	}

	if (digest_nonce_check(&born, &cred.nonce, auth->key,
			       sizeof(auth->key), &msg->src))
		return SIPAUTH_STALE;

	born ^= auth->mask;

	if (now < born || now - born > auth->ttl)
		return SIPAUTH_STALE;

	if (!nonce_take(auth, msg, &cred, born, now))
		return SIPAUTH_STALE;

	return SIPAUTH_OK;
}


/**
 * Check a request's credentials for a line
 *
 * @param auth  Authenticator
 * @param msg   The request (REGISTER or INVITE)
 * @param user  The line it is for: To user of a REGISTER, From user of
 *              an INVITE
 * @param now   Now, ms of a monotonic clock (as for every call here)
 *
 * @return SIPAUTH_OK if the request may go on; else what to answer
 *         (sipauth_reply())
 */
enum sipauth_verdict sipauth_check(struct sipauth *auth,
				   const struct sip_msg *msg,
				   const struct pl *user, uint64_t now)
{
	enum sipauth_verdict v;

	if (!auth || !msg || !user)
		return SIPAUTH_BAD;

	v = verdict_of(auth, msg, user, now);

	switch (v) {

	case SIPAUTH_OK:        ++auth->stats.ok;         break;
	case SIPAUTH_CHALLENGE: ++auth->stats.challenged; break;
	case SIPAUTH_STALE:     ++auth->stats.stale;      break;
	case SIPAUTH_FORBIDDEN: ++auth->stats.forbidden;  break;
	case SIPAUTH_LOCKED:    ++auth->stats.locked;     break;
	case SIPAUTH_BAD:       ++auth->stats.bad;        break;
	}

	return v;
}


/**
 * Write the challenge header(s) of an answer to a request
 *
 * @param mb     Buffer to write to
 * @param auth   Authenticator
 * @param msg    The request: WWW-Authenticate for a REGISTER, else
 *               Proxy-Authenticate; the nonce is bound to its source
 * @param stale  The credentials were right but the nonce was not
 * @param now    Now, ms: the nonce's birth
 *
 * @return 0 if success, otherwise errorcode
 */
int sipauth_challenge(struct mbuf *mb, struct sipauth *auth,
		      const struct sip_msg *msg, bool stale, uint64_t now)
{
	char nonce[DIGEST_NONCE_LEN + 1];
	uint8_t rnd[DIGEST_NONCE_RAND];
	const char *hdr;
	int err = 0, a;

	if (!mb || !auth || !msg)
		return EINVAL;

	hdr = pl_strcmp(&msg->met, "REGISTER") ? "Proxy-Authenticate" :
		"WWW-Authenticate";

	rand_bytes(rnd, sizeof(rnd));
	err = digest_nonce_make(nonce, auth->key, sizeof(auth->key),
				now ^ auth->mask, rnd, &msg->src);
	if (err)
		return err;

	/* RFC 8760: the preferred first. An MD5-only client (libre 1.1.0
	   gives up on any other algorithm) is served only MD5 unless
	   httpctl_sip_sha256 says otherwise */
	for (a = auth->sha256 ? DIGEST_SHA256 : DIGEST_MD5; a >= 0; a--) {
		err |= mbuf_printf(mb, "%s: Digest realm=\"%s\", nonce=\"%s\","
				   " algorithm=%s, qop=\"auth\"%s\r\n", hdr,
				   auth->realm, nonce,
				   digest_alg_name((enum digest_alg)a),
				   stale ? ", stale=true" : "");
	}

	return err;
}


/* Only a line id's characters reach the log */
static int user_print(struct re_printf *pf, void *arg)
{
	const struct pl *user = arg;
	size_t i;
	int err = 0;

	for (i = 0; i < user->l && i < LINE_ID_MAX && !err; i++)
		err = re_hprintf(pf, "%c", line_char(user->p[i]) ?
				 user->p[i] : '?');

	return err;
}


/**
 * Answer a request whose credentials were not good
 *
 * @param auth       Authenticator
 * @param sip        SIP stack
 * @param msg        The request
 * @param v          Its verdict (not SIPAUTH_OK)
 * @param now        Now, ms
 *
 * The answer is stateless (msg->tag is its To tag): a server transaction
 * would keep some 4 KB per request for 32 s, which a flood of requests
 * without credentials would add up. A retransmission is answered again,
 * with a fresh nonce.
 *
 * @return 0 if success, otherwise errorcode
 */
int sipauth_reply(struct sipauth *auth, struct sip *sip,
		  const struct sip_msg *msg, enum sipauth_verdict v,
		  uint64_t now)
{
	bool proxy = 0 != pl_strcmp(&msg->met, "REGISTER");
	struct mbuf *mb;
	uint16_t scode;
	const char *reason;
	int err = 0;

	if (!auth || !sip || !msg || v == SIPAUTH_OK)
		return EINVAL;

	mb = mbuf_alloc(512);
	if (!mb)
		return ENOMEM;

	switch (v) {

	case SIPAUTH_CHALLENGE:
	case SIPAUTH_STALE:
		scode = proxy ? 407 : 401;
		reason = proxy ? "Proxy Authentication Required" :
			"Unauthorized";
		err = sipauth_challenge(mb, auth, msg, v == SIPAUTH_STALE,
					now);
		break;

	case SIPAUTH_LOCKED:
		scode = 403;
		reason = "Forbidden";
		break;

	case SIPAUTH_FORBIDDEN:
		scode = 403;
		reason = "Forbidden";
		warning("httpctl: %r for line %H from %J: wrong credentials\n",
			&msg->met, user_print,
			proxy ? &msg->from.uri.user : &msg->to.uri.user,
			&msg->src);
		break;

	default:
		scode = 400;
		reason = "Bad Credentials";
		warning("httpctl: %r from %J: malformed credentials\n",
			&msg->met, &msg->src);
		break;
	}

	err |= mbuf_write_str(mb, "Content-Length: 0\r\n\r\n");
	if (err)
		goto out;

	if (v == SIPAUTH_CHALLENGE)
		debug("httpctl: %r from %J: challenged\n", &msg->met,
		      &msg->src);

	err = sip_replyf(sip, msg, scode, reason, "%b", mb->buf, mb->end);

 out:
	mem_deref(mb);

	return err;
}


/**
 * The To tag of a stateless answer to an INVITE: derived from its
 * Call-ID and branch, so that the ACK to it is known without state
 *
 * @param auth  Authenticator (its key)
 * @param msg   The INVITE, or the ACK to our answer
 *
 * @return the tag (printed as 16 hex digits by libre)
 */
uint64_t sipauth_tag(const struct sipauth *auth, const struct sip_msg *msg)
{
	uint8_t md[32];
	unsigned mdlen = 0;
	uint64_t tag = 0;
	struct mbuf *mb;
	size_t i;

	if (!auth || !msg)
		return 0;

	mb = mbuf_alloc(256);
	if (!mb)
		return 0;

	if (mbuf_printf(mb, "tag:%r:%r", &msg->callid, &msg->via.branch) ||
	    !HMAC(EVP_sha256(), auth->key, sizeof(auth->key), mb->buf,
		  mb->end, md, &mdlen) || mdlen < 8)
		goto out;

	for (i = 0; i < 8; i++)
		tag = tag << 8 | md[i];

 out:
	mem_deref(mb);

	return tag;
}


/** What the authenticator counted since start */
void sipauth_stats(const struct sipauth *auth, struct sipauth_stats *st)
{
	if (!st)
		return;

	if (auth)
		*st = auth->stats;
	else
		memset(st, 0, sizeof(*st));
}
