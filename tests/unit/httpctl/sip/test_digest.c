/**
 * @file test_digest.c  Digest arithmetic (RFC vectors), credentials
 *                      syntax, stateless nonces
 */

#include <ctype.h>
#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"


/* RFC 2617 section 3.5 */
static const char rfc2617_hdr[] =
	"Digest username=\"Mufasa\",\r\n"
	"     realm=\"testrealm@host.com\",\r\n"
	"     nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
	"     uri=\"/dir/index.html\",\r\n"
	"     qop=auth,\r\n"
	"     nc=00000001,\r\n"
	"     cnonce=\"0a4f113b\",\r\n"
	"     response=\"6629fae49393a05397450978507c4ef1\",\r\n"
	"     opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

/* RFC 7616 section 3.9.1, MD5 and SHA-256 */
static const char rfc7616_fmt[] =
	"Digest username=\"Mufasa\", realm=\"http-auth@example.org\","
	" uri=\"/dir/index.html\", algorithm=%s,"
	" nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\","
	" nc=00000001,"
	" cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\","
	" qop=auth, response=\"%s\","
	" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";


static void ha1_of(char *ha1, enum digest_alg alg, const char *user,
		   const char *realm, const char *pass)
{
	struct pl u, r, p;

	pl_set_str(&u, user);
	pl_set_str(&r, realm);
	pl_set_str(&p, pass);
	assert_int_equal(0, digest_ha1(ha1, alg, &u, &r, &p));
}


static int decode(struct digest_cred *cred, const char *hval)
{
	struct pl pl;

	pl_set_str(&pl, hval);

	return digest_cred_decode(cred, &pl);
}


static void test_digest_rfc2617(void **state)
{
	struct digest_cred cred;
	struct pl get = PL("GET"), post = PL("POST");
	char ha1[DIGEST_HEX_MAX + 1], resp[DIGEST_HEX_MAX + 1];
	(void)state;

	assert_int_equal(0, decode(&cred, rfc2617_hdr));
	assert_true(0 == pl_strcmp(&cred.username, "Mufasa"));
	assert_true(0 == pl_strcmp(&cred.realm, "testrealm@host.com"));
	assert_true(0 == pl_strcmp(&cred.uri, "/dir/index.html"));
	assert_true(0 == pl_strcmp(&cred.qop, "auth"));
	assert_true(0 == pl_strcmp(&cred.cnonce, "0a4f113b"));
	assert_true(0 == pl_strcmp(&cred.opaque,
				   "5ccc069c403ebaf9f0171e9517f40e41"));
	assert_int_equal(DIGEST_MD5, cred.alg);
	assert_int_equal(1, cred.ncount);

	ha1_of(ha1, DIGEST_MD5, "Mufasa", "testrealm@host.com",
	       "Circle Of Life");
	assert_string_equal("939e7578ed9e3c518a452acee763bce9", ha1);

	assert_int_equal(0, digest_response(resp, DIGEST_MD5, ha1, &get,
					    &cred));
	assert_string_equal("6629fae49393a05397450978507c4ef1", resp);
	assert_true(digest_verify(&cred, &get, ha1));

	/* the method is in the digest */
	assert_false(digest_verify(&cred, &post, ha1));

	ha1_of(ha1, DIGEST_MD5, "Mufasa", "testrealm@host.com",
	       "Circle of Life");
	assert_false(digest_verify(&cred, &get, ha1));
}


static void test_digest_rfc7616(void **state)
{
	static const struct {
		const char *name;
		enum digest_alg alg;
		const char *resp;
	} v[] = {
		{"MD5", DIGEST_MD5, "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", DIGEST_SHA256, "753927fa0e85d155564e2e272a28d180"
		 "2ca10daf4496794697cf8db5856cb6c1"},
	};
	struct pl get = PL("GET");
	size_t i;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		char hdr[512], ha1[DIGEST_HEX_MAX + 1];
		char resp[DIGEST_HEX_MAX + 1];
		struct digest_cred cred;

		re_snprintf(hdr, sizeof(hdr), rfc7616_fmt, v[i].name,
			    v[i].resp);
		assert_int_equal(0, decode(&cred, hdr));
		assert_int_equal(v[i].alg, cred.alg);
		assert_int_equal(strlen(v[i].resp), digest_hexlen(cred.alg));
		assert_string_equal(v[i].name, digest_alg_name(cred.alg));

		ha1_of(ha1, v[i].alg, "Mufasa", "http-auth@example.org",
		       "Circle of Life");
		assert_int_equal(0, digest_response(resp, v[i].alg, ha1,
						    &get, &cred));
		assert_string_equal(v[i].resp, resp);
		assert_true(digest_verify(&cred, &get, ha1));

		/* the other algorithm's HA1 gives another response */
		ha1_of(ha1, (enum digest_alg)!v[i].alg, "Mufasa", "http-auth@example.org",
		       "Circle of Life");
		assert_false(digest_verify(&cred, &get, ha1));
	}
}


/* RFC 2069 (no qop): H(HA1:nonce:H(method:uri)), computed for the RFC
   2617 example with Python's hashlib */
static void test_digest_no_qop(void **state)
{
	struct digest_cred cred;
	struct pl get = PL("GET");
	char ha1[DIGEST_HEX_MAX + 1];
	(void)state;

	assert_int_equal(0, decode(&cred,
		"Digest username=\"Mufasa\", realm=\"testrealm@host.com\","
		" nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\","
		" uri=\"/dir/index.html\","
		" response=\"670fd8c2df070c60b045671b8b24ff02\""));
	assert_int_equal(0, cred.ncount);
	assert_null(cred.qop.p);

	ha1_of(ha1, DIGEST_MD5, "Mufasa", "testrealm@host.com",
	       "Circle Of Life");
	assert_true(digest_verify(&cred, &get, ha1));
}


static void test_digest_syntax(void **state)
{
	struct digest_cred cred;
	(void)state;

	/* as SIP phones write it: tokens, odd spacing, MD5 upper or lower,
	   unknown parameters, an empty realm */
	assert_int_equal(0, decode(&cred,
		"  digest   username = \"100\" ,realm=\"\",nonce=abc,"
		"uri=\"sip:127.0.0.1:5060\",response=\"00\",algorithm=md5,"
		"x-extra=\"a, b\""));
	assert_true(0 == pl_strcmp(&cred.username, "100"));
	assert_non_null(cred.realm.p);
	assert_int_equal(0, cred.realm.l);
	assert_true(0 == pl_strcmp(&cred.nonce, "abc"));
	assert_true(0 == pl_strcmp(&cred.uri, "sip:127.0.0.1:5060"));
	assert_int_equal(DIGEST_MD5, cred.alg);

	/* an escaped quote stays inside the value */
	assert_int_equal(0, decode(&cred,
		"Digest username=\"a\\\"b\", realm=\"r\", nonce=\"n\","
		" uri=\"u\", response=\"x\""));
	assert_true(0 == pl_strcmp(&cred.username, "a\\\"b"));

	/* nc as hex */
	assert_int_equal(0, decode(&cred,
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\", qop=auth, nc=0000001F, cnonce=\"c\""));
	assert_int_equal(31, cred.ncount);
}


static void test_digest_syntax_bad(void **state)
{
	static const char *const badv[] = {
		"",
		"Basic dXNlcjpwYXNz",
		"Digest",
		"Digestusername=\"a\"",
		/* a required parameter missing */
		"Digest realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"a\", nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"a\", realm=\"r\", uri=\"u\", response=\"x\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", response=\"x\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\"",
		/* repeated, unterminated, no value, no comma */
		"Digest username=\"a\", username=\"b\", realm=\"r\","
		" nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"a, realm=\"r\"",
		"Digest username=, realm=\"r\"",
		"Digest username=\"a\" realm=\"r\"",
		"Digest username=\"a\",, realm=\"r\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\",",
		/* qop without nc or cnonce, bad nc, nc 0, nc without qop */
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\", qop=auth, cnonce=\"c\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\", qop=auth, nc=00000001",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\", qop=auth, nc=1, cnonce=\"c\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\", qop=auth, nc=0000000g, cnonce=\"c\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\", qop=auth, nc=00000000, cnonce=\"c\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\", nc=00000001, cnonce=\"c\"",
	};
	struct digest_cred cred;
	struct pl pl = PL("x");
	size_t i;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(badv); i++) {
		if (decode(&cred, badv[i]) != EBADMSG)
			fail_msg("decoded: %s", badv[i]);
	}

	/* what we do not do */
	assert_int_equal(ENOTSUP, decode(&cred,
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\", algorithm=MD5-sess"));
	assert_int_equal(ENOTSUP, decode(&cred,
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\", algorithm=SHA-512-256"));
	assert_int_equal(ENOTSUP, decode(&cred,
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\","
		" response=\"x\", qop=auth-int, nc=00000001, cnonce=\"c\""));

	assert_int_equal(EINVAL, digest_cred_decode(NULL, &pl));
	assert_int_equal(EINVAL, digest_cred_decode(&cred, NULL));
}


/* a response of the wrong length or case is no match */
static void test_digest_verify_shape(void **state)
{
	struct digest_cred cred;
	struct pl get = PL("GET");
	char ha1[DIGEST_HEX_MAX + 1];
	(void)state;

	ha1_of(ha1, DIGEST_MD5, "Mufasa", "testrealm@host.com",
	       "Circle Of Life");

	assert_int_equal(0, decode(&cred,
		"Digest username=\"Mufasa\", realm=\"testrealm@host.com\","
		" nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\","
		" uri=\"/dir/index.html\", qop=auth, nc=00000001,"
		" cnonce=\"0a4f113b\","
		" response=\"6629fae49393a05397450978507c4ef\""));
	assert_false(digest_verify(&cred, &get, ha1));

	assert_int_equal(0, decode(&cred,
		"Digest username=\"Mufasa\", realm=\"testrealm@host.com\","
		" nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\","
		" uri=\"/dir/index.html\", qop=auth, nc=00000001,"
		" cnonce=\"0a4f113b\","
		" response=\"6629fae49393a05397450978507c4ef10\""));
	assert_false(digest_verify(&cred, &get, ha1));

	assert_false(digest_verify(NULL, &get, ha1));
}


static void test_digest_nonce(void **state)
{
	uint8_t key[32], key2[32], rnd[DIGEST_NONCE_RAND];
	char nonce[DIGEST_NONCE_LEN + 1], other[DIGEST_NONCE_LEN + 1];
	struct sa src, src6, port;
	struct pl pl;
	uint64_t t = 0;
	size_t i;
	(void)state;

	memset(key, 7, sizeof(key));
	memset(key2, 8, sizeof(key2));
	memset(rnd, 1, sizeof(rnd));
	assert_int_equal(0, sa_set_str(&src, "192.168.1.20", 5060));
	assert_int_equal(0, sa_set_str(&port, "192.168.1.20", 5062));
	assert_int_equal(0, sa_set_str(&src6, "fd00::20", 5060));

	assert_int_equal(0, digest_nonce_make(nonce, key, sizeof(key),
					      0x0102030405060708ULL, rnd,
					      &src));
	assert_int_equal(DIGEST_NONCE_LEN, strlen(nonce));
	assert_true(!strncmp(nonce, "0102030405060708", 16));

	pl_set_str(&pl, nonce);
	assert_int_equal(0, digest_nonce_check(&t, &pl, key, sizeof(key),
					       &src));
	assert_int_equal(0x0102030405060708ULL, t);

	/* another port of the same address: the same phone */
	assert_int_equal(0, digest_nonce_check(&t, &pl, key, sizeof(key),
					       &port));

	/* another address, another key */
	assert_int_equal(EAUTH, digest_nonce_check(&t, &pl, key,
						   sizeof(key), &src6));
	assert_int_equal(EAUTH, digest_nonce_check(&t, &pl, key2,
						   sizeof(key2), &src));

	/* any byte changed, upper case, cut short, too long */
	for (i = 0; i < DIGEST_NONCE_LEN; i++) {
		str_ncpy(other, nonce, sizeof(other));
		other[i] = other[i] == '0' ? '1' : '0';
		pl_set_str(&pl, other);
		assert_int_equal(EAUTH, digest_nonce_check(&t, &pl, key,
							   sizeof(key),
							   &src));
	}

	str_ncpy(other, nonce, sizeof(other));
	for (i = 0; i < DIGEST_NONCE_LEN; i++)
		other[i] = (char)toupper((unsigned char)other[i]);
	pl_set_str(&pl, other);
	if (strcmp(other, nonce))
		assert_int_equal(EAUTH, digest_nonce_check(&t, &pl, key,
							   sizeof(key),
							   &src));

	pl.p = nonce;
	pl.l = DIGEST_NONCE_LEN - 1;
	assert_int_equal(EAUTH, digest_nonce_check(&t, &pl, key, sizeof(key),
						   &src));
	pl_set_str(&pl, "0102030405060708010101010101010100000000000000000"
		   "00000000000000000");
	assert_int_equal(EAUTH, digest_nonce_check(&t, &pl, key, sizeof(key),
						   &src));

	/* random bytes make nonces of one moment differ; IPv6 works */
	memset(rnd, 2, sizeof(rnd));
	assert_int_equal(0, digest_nonce_make(other, key, sizeof(key),
					      0x0102030405060708ULL, rnd,
					      &src6));
	assert_string_not_equal(nonce, other);
	pl_set_str(&pl, other);
	assert_int_equal(0, digest_nonce_check(&t, &pl, key, sizeof(key),
					       &src6));

	assert_int_equal(EINVAL, digest_nonce_make(NULL, key, sizeof(key),
						   0, rnd, &src));
	assert_int_equal(EINVAL, digest_nonce_make(nonce, key, 0, 0, rnd,
						   &src));
	assert_int_equal(EINVAL, digest_nonce_check(NULL, &pl, key,
						    sizeof(key), &src));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_rfc2617),
		cmocka_unit_test(test_digest_rfc7616),
		cmocka_unit_test(test_digest_no_qop),
		cmocka_unit_test(test_digest_syntax),
		cmocka_unit_test(test_digest_syntax_bad),
		cmocka_unit_test(test_digest_verify_shape),
		cmocka_unit_test(test_digest_nonce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
