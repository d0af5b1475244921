/**
 * @file digest.c  SIP digest authentication: the arithmetic and the syntax
 *
 * RFC 2617 / RFC 7616 as SIP (RFC 3261 section 22) uses them and as an
 * HT802 speaks them: MD5 (and SHA-256), qop="auth" or no qop at all (the
 * RFC 2069 form). No "-sess" algorithms, no auth-int: an ATA sends
 * neither, and a request using them is challenged again.
 *
 * Also our nonces, which carry their own birth time and are verified
 * without state: hex of
 *
 *   time (8 bytes, ms) | random (8 bytes) | HMAC-SHA256(key, time |
 *   random | source address) cut to 16 bytes
 *
 * so a nonce is good only from the address it was given to, and a
 * restart (a new key) makes every older nonce foreign.
 *
 * Pure: no clock, no state, no I/O; the caller brings the time, the
 * random bytes and the key.
 */

#include <strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "sipphone.h"
#include "sip/sip.h"


enum {
	NONCE_TIME = 8,
	NONCE_RAND = 8,
	NONCE_MAC = 16,
	HASH_MAX = 32,         /* SHA-256 */
};


static void hex_encode(char *hex, const uint8_t *v, size_t n)
{
	static const char hexdig[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i]     = hexdig[v[i] >> 4];
		hex[2 * i + 1] = hexdig[v[i] & 0xf];
	}
	hex[2 * n] = '\0';
}


static const EVP_MD *alg_md(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 ? EVP_sha256() : EVP_md5();
}


/** Characters of an algorithm's digest in hex */
size_t digest_hexlen(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 ? 64 : 32;
}


/** The algorithm's name as a challenge carries it */
const char *digest_alg_name(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 ? "SHA-256" : "MD5";
}


/*
 * H(p1:p2:...:pn) in lower-case hex, the one shape every digest value
 * has. hex must hold digest_hexlen(alg) + 1 bytes.
 */
static int hash_parts(char *hex, enum digest_alg alg,
		      const struct pl *partv, size_t partc)
{
	uint8_t md[HASH_MAX];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx;
	size_t i;
	int ok;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ENOMEM;

	ok = EVP_DigestInit_ex(ctx, alg_md(alg), NULL);
	for (i = 0; ok && i < partc; i++) {
		if (i)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok && partv[i].l)
			ok = EVP_DigestUpdate(ctx, partv[i].p, partv[i].l);
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &mdlen);

	EVP_MD_CTX_free(ctx);

	if (!ok || mdlen * 2 != digest_hexlen(alg))
		return EPROTO;

	hex_encode(hex, md, mdlen);

	return 0;
}


/**
 * HA1 = H(username:realm:password)
 *
 * @param ha1    Returned hex, digest_hexlen(alg) + 1 bytes
 * @param alg    Algorithm
 * @param user   Username
 * @param realm  Realm
 * @param pass   Password
 *
 * @return 0 if success, otherwise errorcode
 */
int digest_ha1(char *ha1, enum digest_alg alg, const struct pl *user,
	       const struct pl *realm, const struct pl *pass)
{
	struct pl partv[3];

	if (!ha1 || !user || !realm || !pass)
		return EINVAL;

	partv[0] = *user;
	partv[1] = *realm;
	partv[2] = *pass;

	return hash_parts(ha1, alg, partv, ARRAY_SIZE(partv));
}


/**
 * The response a client with this HA1 must send for a request
 *
 *   qop=auth:  H(HA1:nonce:nc:cnonce:qop:H(method:uri))
 *   no qop:    H(HA1:nonce:H(method:uri))
 *
 * @param resp    Returned hex, digest_hexlen(alg) + 1 bytes
 * @param alg     Algorithm (the credentials' own is not looked at)
 * @param ha1     HA1 in hex
 * @param method  Request method
 * @param cred    Decoded credentials (nonce, uri, qop, nc, cnonce)
 *
 * @return 0 if success, otherwise errorcode
 */
int digest_response(char *resp, enum digest_alg alg, const char *ha1,
		    const struct pl *method, const struct digest_cred *cred)
{
	char ha2[2 * HASH_MAX + 1];
	struct pl partv[6];
	size_t n = 0;
	int err;

	if (!resp || !ha1 || !method || !cred)
		return EINVAL;

	partv[0] = *method;
	partv[1] = cred->uri;
	err = hash_parts(ha2, alg, partv, 2);
	if (err)
		return err;

	pl_set_str(&partv[n++], ha1);
	partv[n++] = cred->nonce;
	if (pl_isset(&cred->qop)) {
		partv[n++] = cred->nc;
		partv[n++] = cred->cnonce;
		partv[n++] = cred->qop;
	}
	pl_set_str(&partv[n++], ha2);

	return hash_parts(resp, alg, partv, n);
}


/**
 * Whether the credentials' response is the one a client knowing HA1
 * would send: computed and compared in constant time
 *
 * @param cred    Decoded credentials
 * @param method  Request method
 * @param ha1     HA1 in hex, of the credentials' algorithm
 *
 * @return true if it matches
 */
bool digest_verify(const struct digest_cred *cred, const struct pl *method,
		   const char *ha1)
{
	char want[2 * HASH_MAX + 1];
	size_t len;

	if (!cred || digest_response(want, cred->alg, ha1, method, cred))
		return false;

	/* lengths are no secret: they follow from the algorithm */
	len = digest_hexlen(cred->alg);
	if (cred->response.l != len)
		return false;

	return 0 == mem_seccmp((const uint8_t *)want,
			       (const uint8_t *)cred->response.p, len);
}


/*
 * Header syntax (RFC 7616 section 3.4, RFC 3261 section 25.1):
 *   "Digest" LWS name "=" (token / quoted-string) *("," name "=" ...)
 */

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


static bool is_token(char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;

	return c != '\0' && strchr("-.!%*_+`'~/:@?&;[]", c) != NULL;
}


static void skip_lws(struct pl *pl)
{
	while (pl->l && is_lws(*pl->p))
		pl_advance(pl, 1);
}


/* token or quoted-string; a quoted value is kept without its quotes and
   with its backslash escapes as sent */
static int value_decode(struct pl *val, struct pl *pl)
{
	size_t i;

	if (!pl->l)
		return EBADMSG;

	if (*pl->p != '"') {
		for (i = 0; i < pl->l && is_token(pl->p[i]); i++)
			;
		if (!i)
			return EBADMSG;

		val->p = pl->p;
		val->l = i;
		pl_advance(pl, i);
		return 0;
	}

	for (i = 1; i < pl->l && pl->p[i] != '"'; i++) {
		if (pl->p[i] == '\\')
			++i;
	}
	if (i >= pl->l)
		return EBADMSG;

	val->p = pl->p + 1;
	val->l = i - 1;
	pl_advance(pl, i + 1);

	return 0;
}


static struct pl *param_slot(struct digest_cred *cred, const struct pl *name)
{
	static const struct {
		const char *name;
		size_t off;
	} slotv[] = {
		{"username",  offsetof(struct digest_cred, username)},
		{"realm",     offsetof(struct digest_cred, realm)},
		{"nonce",     offsetof(struct digest_cred, nonce)},
		{"uri",       offsetof(struct digest_cred, uri)},
		{"response",  offsetof(struct digest_cred, response)},
		{"algorithm", offsetof(struct digest_cred, algorithm)},
		{"cnonce",    offsetof(struct digest_cred, cnonce)},
		{"opaque",    offsetof(struct digest_cred, opaque)},
		{"qop",       offsetof(struct digest_cred, qop)},
		{"nc",        offsetof(struct digest_cred, nc)},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(slotv); i++) {
		if (0 == pl_strcasecmp(name, slotv[i].name))
			return (struct pl *)(void *)((char *)cred +
						     slotv[i].off);
	}

	return NULL;
}


static bool nc_valid(const struct pl *nc)
{
	size_t i;

	if (nc->l != 8)
		return false;

	for (i = 0; i < nc->l; i++) {
		char c = nc->p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return false;
	}

	return true;
}


/**
 * Decode the value of an Authorization or Proxy-Authorization header
 *
 * @param cred  Returned credentials (pointing into hval)
 * @param hval  Header value
 *
 * @return 0 if success; EBADMSG if it is not Digest credentials or a
 *         parameter is missing, repeated or malformed; ENOTSUP for an
 *         algorithm or qop we do not do
 */
int digest_cred_decode(struct digest_cred *cred, const struct pl *hval)
{
	struct pl pl, name;
	uint32_t nc = 0;
	size_t i;
	int err;

	if (!cred || !hval)
		return EINVAL;

	memset(cred, 0, sizeof(*cred));
	pl = *hval;
	skip_lws(&pl);

	if (pl.l < 7 || strncasecmp(pl.p, "Digest", 6) || !is_lws(pl.p[6]))
		return EBADMSG;
	pl_advance(&pl, 6);

	for (;;) {
		struct pl val, *slot;

		skip_lws(&pl);
		for (i = 0; i < pl.l && is_token(pl.p[i]); i++)
			;
		if (!i)
			return EBADMSG;
		name.p = pl.p;
		name.l = i;
		pl_advance(&pl, i);

		skip_lws(&pl);
		if (!pl.l || *pl.p != '=')
			return EBADMSG;
		pl_advance(&pl, 1);
		skip_lws(&pl);

		err = value_decode(&val, &pl);
		if (err)
			return err;

		/* unknown parameters are allowed (auth-param) */
		slot = param_slot(cred, &name);
		if (slot) {
			if (slot->p)
				return EBADMSG;
			/* set, even when empty: p tells that it was sent */
			*slot = val;
		}

		skip_lws(&pl);
		if (!pl.l)
			break;
		if (*pl.p != ',')
			return EBADMSG;
		pl_advance(&pl, 1);
	}

	if (!pl_isset(&cred->username) || !pl_isset(&cred->nonce) ||
	    !pl_isset(&cred->uri) || !pl_isset(&cred->response) ||
	    !cred->realm.p)
		return EBADMSG;

	if (!pl_isset(&cred->algorithm) ||
	    0 == pl_strcasecmp(&cred->algorithm, "MD5"))
		cred->alg = DIGEST_MD5;
	else if (0 == pl_strcasecmp(&cred->algorithm, "SHA-256"))
		cred->alg = DIGEST_SHA256;
	else
		return ENOTSUP;

	if (cred->qop.p) {
		if (pl_strcasecmp(&cred->qop, "auth"))
			return ENOTSUP;
		if (!nc_valid(&cred->nc) || !pl_isset(&cred->cnonce))
			return EBADMSG;

		for (i = 0; i < cred->nc.l; i++)
			nc = nc << 4 | (uint32_t)ch_hex(cred->nc.p[i]);
		if (!nc)
			return EBADMSG;
	}
	else if (cred->nc.p || cred->cnonce.p) {
		/* nc and cnonce belong to qop (RFC 7616 section 3.4) */
		return EBADMSG;
	}

	cred->ncount = nc;

	return 0;
}


/*
 * Nonces
 */

static size_t addr_bytes(uint8_t *buf, const struct sa *src)
{
	if (sa_af(src) == AF_INET) {
		memcpy(buf, &src->u.in.sin_addr, 4);
		return 4;
	}

	if (sa_af(src) == AF_INET6) {
		memcpy(buf, &src->u.in6.sin6_addr, 16);
		return 16;
	}

	return 0;
}


static int nonce_mac(uint8_t *mac, const uint8_t *key, size_t keylen,
		     const uint8_t *head, const struct sa *src)
{
	uint8_t msg[NONCE_TIME + NONCE_RAND + 16], md[HASH_MAX];
	unsigned mdlen = 0;
	size_t n;

	memcpy(msg, head, NONCE_TIME + NONCE_RAND);
	n = NONCE_TIME + NONCE_RAND + addr_bytes(msg + NONCE_TIME +
						 NONCE_RAND, src);

	if (!HMAC(EVP_sha256(), key, (int)keylen, msg, n, md, &mdlen) ||
	    mdlen < NONCE_MAC)
		return EPROTO;

	memcpy(mac, md, NONCE_MAC);

	return 0;
}


/**
 * Make a nonce for a challenge to src
 *
 * @param nonce   Returned nonce, DIGEST_NONCE_LEN + 1 bytes
 * @param key     Secret key (made at start)
 * @param keylen  Length of key
 * @param t       Birth time, ms of the caller's clock
 * @param rnd     DIGEST_NONCE_RAND random bytes: no two nonces alike
 * @param src     The address it is given to
 *
 * @return 0 if success, otherwise errorcode
 */
int digest_nonce_make(char *nonce, const uint8_t *key, size_t keylen,
		      uint64_t t, const uint8_t *rnd, const struct sa *src)
{
	uint8_t raw[NONCE_TIME + NONCE_RAND + NONCE_MAC];
	size_t i;
	int err;

	if (!nonce || !key || !keylen || !rnd || !src)
		return EINVAL;

	for (i = 0; i < NONCE_TIME; i++)
		raw[i] = (uint8_t)(t >> (8 * (NONCE_TIME - 1 - i)));
	memcpy(raw + NONCE_TIME, rnd, NONCE_RAND);

	err = nonce_mac(raw + NONCE_TIME + NONCE_RAND, key, keylen, raw, src);
	if (err)
		return err;

	hex_encode(nonce, raw, sizeof(raw));

	return 0;
}


/**
 * Check that a nonce is one of ours, given to src
 *
 * @param t       Returned birth time (ms) of a good nonce
 * @param nonce   Nonce as the credentials carry it
 * @param key     Secret key
 * @param keylen  Length of key
 * @param src     Where the request came from
 *
 * @return 0 if it is ours; EAUTH if not (foreign, altered, another
 *         address, an older key); EINVAL for bad arguments
 */
int digest_nonce_check(uint64_t *t, const struct pl *nonce,
		       const uint8_t *key, size_t keylen,
		       const struct sa *src)
{
	uint8_t raw[NONCE_TIME + NONCE_RAND + NONCE_MAC], mac[NONCE_MAC];
	uint64_t v = 0;
	size_t i;

	if (!t || !nonce || !key || !keylen || !src)
		return EINVAL;

	if (nonce->l != DIGEST_NONCE_LEN)
		return EAUTH;

	for (i = 0; i < nonce->l; i++) {
		char c = nonce->p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return EAUTH;
	}

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(ch_hex(nonce->p[2 * i]) << 4 |
				   ch_hex(nonce->p[2 * i + 1]));

	if (nonce_mac(mac, key, keylen, raw, src))
		return EAUTH;

	if (mem_seccmp(mac, raw + NONCE_TIME + NONCE_RAND, NONCE_MAC))
		return EAUTH;

	for (i = 0; i < NONCE_TIME; i++)
		v = v << 8 | raw[i];

	*t = v;

	return 0;
}
