/**
 * @file test_sipauth.c  SIP digest authentication of the lines: config,
 *                       challenges, verdicts, stale nonces, replays
 *
 * Requests are real SIP text decoded by libre; the client's side is
 * computed with digest.c (whose arithmetic test_digest.c checks against
 * the RFC vectors).
 */

#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"


enum { TTL_S = 300 };

static const char realm[] = "sipphone.test";
static const char phone_ip[] = "192.168.1.20";

/* One request as a phone would send it */
struct req {
	const char *method;    /* REGISTER or INVITE                      */
	const char *line;      /* To user of a REGISTER, From of INVITE   */
	const char *callid;
	const char *branch;
	uint32_t cseq;
	const char *src;       /* source IP                               */
	const char *hdrs;      /* extra header lines, each with CRLF      */
};


static struct sip_msg *msg_make(const struct req *r)
{
	bool reg = !strcmp(r->method, "REGISTER");
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(1024);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_printf(mb,
		"%s sip:%s SIP/2.0\r\n"
		"Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s\r\n"
		"From: <sip:%s@127.0.0.1>;tag=ft1\r\n"
		"To: <sip:%s@127.0.0.1>\r\n"
		"Call-ID: %s\r\n"
		"CSeq: %u %s\r\n"
		"Contact: <sip:%s@%s:5060>\r\n"
		"%s"
		"Content-Length: 0\r\n"
		"\r\n",
		r->method, reg ? "127.0.0.1" : "5555@127.0.0.1",
		r->src ? r->src : phone_ip, r->branch,
		r->line, reg ? r->line : "5555", r->callid, r->cseq,
		r->method, r->line, r->src ? r->src : phone_ip,
		r->hdrs ? r->hdrs : ""));
	mb->pos = 0;

	assert_int_equal(0, sip_msg_decode(&msg, mb));
	assert_int_equal(0, sa_set_str(&msg->src, r->src ? r->src : phone_ip,
				       5060));
	mem_deref(mb);

	return msg;
}


static struct pl line_of(const struct sip_msg *msg)
{
	return pl_strcmp(&msg->met, "REGISTER") ? msg->from.uri.user :
		msg->to.uri.user;
}


static enum sipauth_verdict check(struct sipauth *auth, const struct req *r,
				  uint64_t now)
{
	struct sip_msg *msg = msg_make(r);
	struct pl line = line_of(msg);
	enum sipauth_verdict v = sipauth_check(auth, msg, &line, now);

	mem_deref(msg);

	return v;
}


/* The challenge a request would get; returns its nonce */
static void challenge(char *nonce, struct mbuf **mbp, struct sipauth *auth,
		      const struct req *r, bool stale, uint64_t now)
{
	struct sip_msg *msg = msg_make(r);
	struct mbuf *mb = mbuf_alloc(512);
	struct pl n;

	assert_non_null(mb);
	assert_int_equal(0, sipauth_challenge(mb, auth, msg, stale, now));
	assert_int_equal(0, re_regex((char *)mb->buf, mb->end,
				     "nonce=\"[^\"]+\"", &n));
	assert_int_equal(DIGEST_NONCE_LEN, n.l);
	(void)pl_strcpy(&n, nonce, DIGEST_NONCE_LEN + 1);

	mem_deref(msg);
	if (mbp)
		*mbp = mb;
	else
		mem_deref(mb);
}


/* Credentials header for a request, as a client knowing pass makes it */
struct cred_prm {
	const char *hdr;       /* default Authorization                   */
	const char *user;      /* digest username; default the line      */
	const char *pass;
	const char *nonce;
	const char *uri;       /* default the request's                   */
	uint32_t nc;           /* 0: no qop                               */
	enum digest_alg alg;
	const char *realm;     /* default ours                            */
};


static char *cred_make(const struct req *r, const struct cred_prm *p)
{
	bool reg = !strcmp(r->method, "REGISTER");
	char ha1[DIGEST_HEX_MAX + 1], resp[DIGEST_HEX_MAX + 1];
	char ncs[9], *hdr = NULL;
	struct digest_cred cred;
	struct pl user, rlm, pass, method;

	memset(&cred, 0, sizeof(cred));
	pl_set_str(&user, p->user ? p->user : r->line);
	pl_set_str(&rlm, p->realm ? p->realm : realm);
	pl_set_str(&pass, p->pass);
	pl_set_str(&method, r->method);
	pl_set_str(&cred.nonce, p->nonce);
	pl_set_str(&cred.uri, p->uri ? p->uri :
		   reg ? "sip:127.0.0.1" : "sip:5555@127.0.0.1");
	re_snprintf(ncs, sizeof(ncs), "%08x", p->nc);
	if (p->nc) {
		pl_set_str(&cred.qop, "auth");
		pl_set_str(&cred.nc, ncs);
		pl_set_str(&cred.cnonce, "0a4f113b");
	}

	assert_int_equal(0, digest_ha1(ha1, p->alg, &user, &rlm, &pass));
	assert_int_equal(0, digest_response(resp, p->alg, ha1, &method,
					    &cred));

	assert_int_equal(0, re_sdprintf(&hdr,
		"%s: Digest username=\"%r\", realm=\"%r\", nonce=\"%r\","
		" uri=\"%r\", response=\"%s\", algorithm=%s%s%s%s\r\n",
		p->hdr ? p->hdr : "Authorization", &user, &rlm, &cred.nonce,
		&cred.uri, resp, digest_alg_name(p->alg),
		p->nc ? ", qop=auth, cnonce=\"0a4f113b\", nc=" : "",
		p->nc ? ncs : "", ""));

	return hdr;
}


static struct sipauth *auth_make(bool sha256)
{
	struct sipauth_cfg cfg = {realm, TTL_S, sha256};
	struct sipauth *auth = NULL;
	struct pl e1 = PL("100:s3cret"), e2 = PL("101:pa:ss:word");

	assert_int_equal(0, sipauth_alloc(&auth, &cfg));
	assert_false(sipauth_on(auth));
	assert_int_equal(0, sipauth_add(auth, &e1));
	assert_int_equal(0, sipauth_add(auth, &e2));
	assert_true(sipauth_on(auth));

	return auth;
}


/* Check r with credentials made by p */
static enum sipauth_verdict check_cred(struct sipauth *auth, struct req r,
				       const struct cred_prm *p, uint64_t now)
{
	char *hdr = cred_make(&r, p);
	enum sipauth_verdict v;

	r.hdrs = hdr;
	v = check(auth, &r, now);
	mem_deref(hdr);

	return v;
}


static void test_sipauth_config(void **state)
{
	static const char *const badv[] = {
		"100", ":pw", "100:", "", "1 0:pw", "100@x:pw", "a\"b:pw",
		"123456789012345678901234567890123:pw",
	};
	struct sipauth_cfg cfg = {realm, TTL_S, false};
	struct sipauth *auth = NULL;
	struct pl pl;
	size_t i;
	(void)state;

	assert_int_equal(0, sipauth_alloc(&auth, &cfg));

	for (i = 0; i < ARRAY_SIZE(badv); i++) {
		pl_set_str(&pl, badv[i]);
		if (sipauth_add(auth, &pl) != EINVAL)
			fail_msg("took '%s'", badv[i]);
	}
	assert_false(sipauth_on(auth));

	pl_set_str(&pl, "12345678901234567890123456789012:pw");
	assert_int_equal(0, sipauth_add(auth, &pl));
	pl_set_str(&pl, "a.b_c-d+*#:x");
	assert_int_equal(0, sipauth_add(auth, &pl));
	pl_set_str(&pl, "a.b_c-d+*#:y");
	assert_int_equal(EALREADY, sipauth_add(auth, &pl));
	assert_true(sipauth_on(auth));

	auth = mem_deref(auth);

	/* realms that would not fit between quotes, no lifetime */
	cfg.realm = "a\"b";
	assert_int_equal(EINVAL, sipauth_alloc(&auth, &cfg));
	cfg.realm = "a\\b";
	assert_int_equal(EINVAL, sipauth_alloc(&auth, &cfg));
	cfg.realm = "";
	assert_int_equal(EINVAL, sipauth_alloc(&auth, &cfg));
	cfg.realm = NULL;
	assert_int_equal(EINVAL, sipauth_alloc(&auth, &cfg));
	cfg.realm = realm;
	cfg.nonce_ttl = 0;
	assert_int_equal(EINVAL, sipauth_alloc(&auth, &cfg));
	assert_null(auth);

	assert_false(sipauth_on(NULL));
}


/* The challenge text is exactly this */
static void challenge_is(const struct mbuf *mb, const char *fmt,
			 const char *nonce)
{
	char want[1024];

	re_snprintf(want, sizeof(want), fmt, nonce, nonce);
	assert_int_equal(strlen(want), mb->end);
	assert_memory_equal(want, mb->buf, mb->end);
}


static void test_sipauth_challenge(void **state)
{
	struct req r = {"REGISTER", "100", "c1", "b1", 1, NULL, NULL};
	struct req inv = {"INVITE", "100", "c2", "b2", 1, NULL, NULL};
	struct sipauth *auth = auth_make(false);
	char nonce[DIGEST_NONCE_LEN + 1], nonce2[DIGEST_NONCE_LEN + 1];
	struct mbuf *mb = NULL;
	(void)state;

	/* no credentials at all */
	assert_int_equal(SIPAUTH_CHALLENGE, check(auth, &r, 1000));
	assert_int_equal(SIPAUTH_CHALLENGE, check(auth, &inv, 1000));

	challenge(nonce, &mb, auth, &r, false, 1000);
	challenge_is(mb, "WWW-Authenticate: Digest realm=\"sipphone.test\","
		     " nonce=\"%s\", algorithm=MD5, qop=\"auth\"\r\n", nonce);
	mb = mem_deref(mb);

	/* an INVITE gets Proxy-Authenticate; stale says so; nonces of
	   one moment differ */
	challenge(nonce2, &mb, auth, &inv, true, 1000);
	assert_string_not_equal(nonce, nonce2);
	challenge_is(mb, "Proxy-Authenticate: Digest"
		     " realm=\"sipphone.test\", nonce=\"%s\", algorithm=MD5,"
		     " qop=\"auth\", stale=true\r\n", nonce2);
	mb = mem_deref(mb);

	mem_deref(auth);

	/* SHA-256 offered first, then MD5, one nonce */
	auth = auth_make(true);
	challenge(nonce, &mb, auth, &r, false, 1000);
	challenge_is(mb, "WWW-Authenticate: Digest realm=\"sipphone.test\","
		     " nonce=\"%s\", algorithm=SHA-256, qop=\"auth\"\r\n"
		     "WWW-Authenticate: Digest realm=\"sipphone.test\","
		     " nonce=\"%s\", algorithm=MD5, qop=\"auth\"\r\n", nonce);
	mem_deref(mb);
	mem_deref(auth);
}


static void test_sipauth_good(void **state)
{
	struct sipauth *auth = auth_make(false);
	struct req r = {"REGISTER", "100", "c1", "b1", 1, NULL, NULL};
	struct req inv = {"INVITE", "101", "c2", "b2", 1, NULL, NULL};
	char nonce[DIGEST_NONCE_LEN + 1];
	struct cred_prm p = {NULL, NULL, "s3cret", nonce, NULL, 1,
			     DIGEST_MD5, NULL};
	struct sipauth_stats st;
	(void)state;

	challenge(nonce, NULL, auth, &r, false, 1000);
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, 1001));

	/* the next request on the same nonce, counted up */
	r.branch = "b1b";
	r.cseq = 2;
	p.nc = 2;
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, 2000));

	/* SHA-256 answers are taken too */
	challenge(nonce, NULL, auth, &r, false, 3000);
	p.alg = DIGEST_SHA256;
	p.nc = 1;
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, 3000));

	/* an INVITE, its line's password (with ':' in it), in
	   Proxy-Authorization */
	challenge(nonce, NULL, auth, &inv, false, 4000);
	p.hdr = "Proxy-Authorization";
	p.pass = "pa:ss:word";
	p.alg = DIGEST_MD5;
	assert_int_equal(SIPAUTH_OK, check_cred(auth, inv, &p, 4000));

	/* no qop (RFC 2069 clients) */
	challenge(nonce, NULL, auth, &r, false, 5000);
	p.hdr = NULL;
	p.pass = "s3cret";
	p.nc = 0;
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, 5000));

	sipauth_stats(auth, &st);
	assert_int_equal(5, st.ok);
	assert_int_equal(0, st.forbidden + st.stale + st.bad);

	mem_deref(auth);
}


static void test_sipauth_forbidden(void **state)
{
	struct sipauth *auth = auth_make(false);
	struct req r = {"REGISTER", "100", "c1", "b1", 1, NULL, NULL};
	struct req unknown = {"REGISTER", "555", "c9", "b9", 1, NULL, NULL};
	struct req inv = {"INVITE", "100", "c2", "b2", 1, NULL, NULL};
	char nonce[DIGEST_NONCE_LEN + 1];
	struct cred_prm p = {NULL, NULL, "wrong", nonce, NULL, 1,
			     DIGEST_MD5, NULL};
	struct sipauth_stats st;
	(void)state;

	challenge(nonce, NULL, auth, &r, false, 1000);

	/* a wrong password */
	assert_int_equal(SIPAUTH_FORBIDDEN, check_cred(auth, r, &p, 1000));

	/* one line's password for another line */
	p.pass = "pa:ss:word";
	assert_int_equal(SIPAUTH_FORBIDDEN, check_cred(auth, r, &p, 1000));

	/* the right password, but as another user than the line */
	p.user = "101";
	assert_int_equal(SIPAUTH_FORBIDDEN, check_cred(auth, r, &p, 1000));
	p.user = NULL;

	/* the method is in the digest: a REGISTER's answer for an INVITE */
	p.pass = "s3cret";
	{
		char *hdr = cred_make(&r, &p);

		inv.hdrs = hdr;
		assert_int_equal(SIPAUTH_FORBIDDEN, check(auth, &inv, 1000));
		inv.hdrs = NULL;
		mem_deref(hdr);
	}

	/* a user with no password: challenged like any, then refused
	   like a wrong password, whatever it tries */
	assert_int_equal(SIPAUTH_CHALLENGE, check(auth, &unknown, 1000));
	challenge(nonce, NULL, auth, &unknown, false, 1000);
	p.pass = "";
	assert_int_equal(SIPAUTH_FORBIDDEN, check_cred(auth, unknown, &p,
						       1000));
	p.pass = "s3cret";
	assert_int_equal(SIPAUTH_FORBIDDEN, check_cred(auth, unknown, &p,
						       1000));

	/* a wrong password on a stale nonce is still a wrong password */
	p.pass = "wrong";
	assert_int_equal(SIPAUTH_FORBIDDEN, check_cred(auth, r, &p,
						       1000 + TTL_S * 2000));

	sipauth_stats(auth, &st);
	assert_int_equal(7, st.forbidden);
	assert_int_equal(0, st.ok);

	mem_deref(auth);
}


static void test_sipauth_stale(void **state)
{
	struct sipauth *auth = auth_make(false), *other = auth_make(false);
	struct req r = {"REGISTER", "100", "c1", "b1", 1, NULL, NULL};
	char nonce[DIGEST_NONCE_LEN + 1];
	struct cred_prm p = {NULL, NULL, "s3cret", nonce, NULL, 1,
			     DIGEST_MD5, NULL};
	uint64_t t0 = 1000000;
	(void)state;

	/* a nonce up to its lifetime, then stale */
	challenge(nonce, NULL, auth, &r, false, t0);
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p,
						t0 + TTL_S * 1000));
	r.branch = "b2";
	p.nc = 2;
	assert_int_equal(SIPAUTH_STALE, check_cred(auth, r, &p,
						   t0 + TTL_S * 1000 + 1));

	/* from the future (a clock that went back) */
	challenge(nonce, NULL, auth, &r, false, t0);
	p.nc = 1;
	assert_int_equal(SIPAUTH_STALE, check_cred(auth, r, &p, t0 - 1));

	/* a nonce made by another instance (before a restart) */
	challenge(nonce, NULL, other, &r, false, t0);
	assert_int_equal(SIPAUTH_STALE, check_cred(auth, r, &p, t0));

	/* a nonce we never made at all */
	p.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
	assert_int_equal(SIPAUTH_STALE, check_cred(auth, r, &p, t0));
	p.nonce = nonce;

	/* a nonce given to another address */
	challenge(nonce, NULL, auth, &r, false, t0);
	r.src = "192.168.1.99";
	assert_int_equal(SIPAUTH_STALE, check_cred(auth, r, &p, t0));

	mem_deref(other);
	mem_deref(auth);
}


static void test_sipauth_replay(void **state)
{
	struct sipauth *auth = auth_make(false);
	struct req r = {"REGISTER", "100", "c1", "b1", 1, NULL, NULL};
	char nonce[DIGEST_NONCE_LEN + 1];
	struct cred_prm p = {NULL, NULL, "s3cret", nonce, NULL, 1,
			     DIGEST_MD5, NULL};
	uint64_t t0 = 1000;
	(void)state;

	challenge(nonce, NULL, auth, &r, false, t0);
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, t0));

	/* the same request again (a UDP retransmission): fine, within
	   the 32 s a transaction lasts */
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, t0 + 500));
	assert_int_equal(SIPAUTH_STALE, check_cred(auth, r, &p,
						   t0 + 33000));

	/* the same nonce-count on another request: a replay */
	r.branch = "b2";
	r.cseq = 2;
	assert_int_equal(SIPAUTH_STALE, check_cred(auth, r, &p, t0 + 600));

	/* counting up is fine, counting back is not */
	p.nc = 5;
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, t0 + 700));
	r.branch = "b3";
	r.cseq = 3;
	p.nc = 4;
	assert_int_equal(SIPAUTH_STALE, check_cred(auth, r, &p, t0 + 800));
	p.nc = 6;
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, t0 + 900));

	/* without qop a nonce is good once */
	challenge(nonce, NULL, auth, &r, false, t0);
	p.nc = 0;
	r.branch = "b4";
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, t0 + 1000));
	r.branch = "b5";
	r.cseq = 4;
	assert_int_equal(SIPAUTH_STALE, check_cred(auth, r, &p, t0 + 1100));

	mem_deref(auth);
}


/* More used nonces than the table holds: the forgotten ones count as
   used, so none can be replayed */
static void test_sipauth_table_full(void **state)
{
	enum { N = 300 };
	struct sipauth *auth = auth_make(false);
	struct req r = {"REGISTER", "100", "c1", "b1", 1, NULL, NULL};
	char first[DIGEST_NONCE_LEN + 1], nonce[DIGEST_NONCE_LEN + 1];
	struct cred_prm p = {NULL, NULL, "s3cret", first, NULL, 1,
			     DIGEST_MD5, NULL};
	uint64_t t;
	(void)state;

	challenge(first, NULL, auth, &r, false, 1000);
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, 1000));

	p.nonce = nonce;
	for (t = 1001; t < 1001 + N; t++) {
		challenge(nonce, NULL, auth, &r, false, t);
		assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, t));
	}

	/* the first nonce, counted up, would be fine had it been kept */
	p.nonce = first;
	p.nc = 2;
	r.branch = "b2";
	assert_int_equal(SIPAUTH_STALE, check_cred(auth, r, &p, 1000 + N));

	/* a fresh one still works */
	challenge(nonce, NULL, auth, &r, false, 2000 + N);
	p.nonce = nonce;
	p.nc = 1;
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, 2000 + N));

	mem_deref(auth);
}


static void test_sipauth_odd(void **state)
{
	struct sipauth *auth = auth_make(false);
	struct req r = {"REGISTER", "100", "c1", "b1", 1, NULL, NULL};
	char nonce[DIGEST_NONCE_LEN + 1];
	struct cred_prm p = {NULL, NULL, "s3cret", nonce, NULL, 1,
			     DIGEST_MD5, "other.realm"};
	struct sipauth_stats st;
	(void)state;

	challenge(nonce, NULL, auth, &r, false, 1000);

	/* credentials for another realm: a challenge for ours */
	assert_int_equal(SIPAUTH_CHALLENGE, check_cred(auth, r, &p, 1000));

	/* an algorithm we do not do: a challenge */
	r.hdrs = "Authorization: Digest username=\"100\","
		" realm=\"sipphone.test\", nonce=\"n\", uri=\"u\","
		" response=\"x\", algorithm=MD5-sess\r\n";
	assert_int_equal(SIPAUTH_CHALLENGE, check(auth, &r, 1000));

	/* not digest credentials: a bad request */
	r.hdrs = "Authorization: Digest username=\"100\"\r\n";
	assert_int_equal(SIPAUTH_BAD, check(auth, &r, 1000));

	/* a bad header and good credentials: the good ones count */
	p.realm = NULL;
	{
		char *hdr = cred_make(&r, &p), *both = NULL;

		assert_int_equal(0, re_sdprintf(&both,
			"Authorization: Basic eA==\r\n%s", hdr));
		r.hdrs = both;
		assert_int_equal(SIPAUTH_OK, check(auth, &r, 1000));
		mem_deref(both);
		mem_deref(hdr);
	}

	sipauth_stats(auth, &st);
	assert_int_equal(1, st.ok);
	assert_int_equal(2, st.challenged);
	assert_int_equal(1, st.bad);

	mem_deref(auth);
}


/* Ten wrong answers in a minute: the address's credentials, even the
   right ones, are refused until the minute is over; others are not */
static void test_sipauth_lockout(void **state)
{
	struct sipauth *auth = auth_make(false);
	struct req r = {"REGISTER", "100", "c1", "b1", 1, NULL, NULL};
	struct req other = {"REGISTER", "100", "c9", "b9", 1, "192.168.1.30",
			    NULL};
	char nonce[DIGEST_NONCE_LEN + 1];
	struct cred_prm p = {NULL, NULL, "wrong", nonce, NULL, 1,
			     DIGEST_MD5, NULL};
	uint64_t t0 = 1000;
	int i;
	(void)state;

	challenge(nonce, NULL, auth, &r, false, t0);
	for (i = 0; i < 10; i++)
		assert_int_equal(SIPAUTH_FORBIDDEN,
				 check_cred(auth, r, &p, t0 + i));

	p.pass = "s3cret";
	assert_int_equal(SIPAUTH_LOCKED, check_cred(auth, r, &p, t0 + 10));
	assert_int_equal(SIPAUTH_LOCKED, check_cred(auth, r, &p, t0 + 60000));

	/* no credentials: still the plain challenge */
	assert_int_equal(SIPAUTH_CHALLENGE, check(auth, &r, t0 + 20));

	/* another address is not held up */
	challenge(nonce, NULL, auth, &other, false, t0 + 20);
	assert_int_equal(SIPAUTH_OK, check_cred(auth, other, &p, t0 + 20));

	/* the minute over: the right password works again */
	challenge(nonce, NULL, auth, &r, false, t0 + 60001);
	assert_int_equal(SIPAUTH_OK, check_cred(auth, r, &p, t0 + 60001));

	mem_deref(auth);
}


static void test_sipauth_tag(void **state)
{
	struct sipauth *auth = auth_make(false);
	struct req inv = {"INVITE", "100", "c2", "b2", 1, NULL, NULL};
	struct req ack = {"ACK", "100", "c2", "b2", 1, NULL, NULL};
	struct sip_msg *m1, *m2;
	uint64_t tag;
	(void)state;

	/* the INVITE and the ACK to its answer share Call-ID and branch */
	m1 = msg_make(&inv);
	m2 = msg_make(&ack);
	tag = sipauth_tag(auth, m1);
	assert_true(tag != 0);
	assert_true(tag == sipauth_tag(auth, m2));
	mem_deref(m2);

	ack.branch = "b3";
	m2 = msg_make(&ack);
	assert_true(tag != sipauth_tag(auth, m2));
	mem_deref(m2);
	mem_deref(m1);

	mem_deref(auth);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sipauth_config),
		cmocka_unit_test(test_sipauth_challenge),
		cmocka_unit_test(test_sipauth_good),
		cmocka_unit_test(test_sipauth_forbidden),
		cmocka_unit_test(test_sipauth_stale),
		cmocka_unit_test(test_sipauth_replay),
		cmocka_unit_test(test_sipauth_table_full),
		cmocka_unit_test(test_sipauth_odd),
		cmocka_unit_test(test_sipauth_lockout),
		cmocka_unit_test(test_sipauth_tag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
