/**
 * @file sign.c  Webhook secrets and signatures (Standard Webhooks 1.0)
 *
 * A secret is "whsec_" and the base64 of random bytes; the key that
 * signs is those bytes, not the text. A signature is
 *
 *   v1,<base64 of HMAC-SHA256(key, "<msg id>.<unix seconds>.<body>")>
 *
 * Nothing here logs: a secret or a key must never reach the log.
 *
 * Pure functions but for the random source of whsign_secret_new().
 */

#include <sys/random.h>
#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	SHA256_LEN = 32,
};

static const char prefix[] = "whsec_";


/**
 * Encode key bytes as a secret, "whsec_<base64>"
 *
 * @param secretp  Returned secret (mem_deref it)
 * @param key      Key bytes
 * @param len      Key length, WHSIGN_KEY_MIN to WHSIGN_KEY_MAX
 *
 * @return 0 if success, otherwise errorcode
 */
int whsign_secret_encode(char **secretp, const uint8_t *key, size_t len)
{
	char b64[(WHSIGN_KEY_MAX + 2) / 3 * 4 + 1];
	size_t olen = sizeof(b64) - 1;
	int err;

	if (!secretp || !key || len < WHSIGN_KEY_MIN || len > WHSIGN_KEY_MAX)
		return EINVAL;

	err = base64_encode(key, len, b64, &olen);
	if (err)
		return err;

	return re_sdprintf(secretp, "%s%b", prefix, b64, olen);
}


/**
 * Make a new secret of WHSIGN_KEY_BYTES random bytes
 *
 * @param secretp  Returned secret (mem_deref it)
 *
 * @return 0 if success, otherwise errorcode
 */
int whsign_secret_new(char **secretp)
{
	uint8_t key[WHSIGN_KEY_BYTES];
	int err;

	if (!secretp)
		return EINVAL;

	/* the kernel's CSPRNG; a short read is a failure, never padded */
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		return EIO;

	err = whsign_secret_encode(secretp, key, sizeof(key));
	memset(key, 0, sizeof(key));

	return err;
}


static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '+' || c == '/';
}


/**
 * Decode a secret into its key bytes
 *
 * libre's base64_decode() takes any character (as zero bits) and drops
 * a short last group, so the text is checked here first: a secret that
 * is not ours fails instead of signing with a wrong key.
 *
 * @param secret  "whsec_<base64>"
 * @param key     Returned key, room for WHSIGN_KEY_MAX bytes
 * @param lenp    Returned key length
 *
 * @return 0 if success, EINVAL if it is not a well-formed secret
 */
int whsign_secret_decode(const char *secret, uint8_t *key, size_t *lenp)
{
	uint8_t buf[WHSIGN_KEY_MAX + 3];
	size_t len, i, pad = 0, olen = sizeof(buf);
	const char *b64;
	int err;

	if (!secret || !key || !lenp)
		return EINVAL;

	if (strncmp(secret, prefix, sizeof(prefix) - 1))
		return EINVAL;

	b64 = secret + sizeof(prefix) - 1;
	len = strlen(b64);
	if (!len || len % 4 || len > (WHSIGN_KEY_MAX + 2) / 3 * 4)
		return EINVAL;

	for (i = 0; i < len; i++) {
		if (b64[i] == '=' && i >= len - 2)
			++pad;
		else if (pad || !b64_char(b64[i]))
			return EINVAL;
	}

	err = base64_decode(b64, len, buf, &olen);
	if (!err && (olen < WHSIGN_KEY_MIN || olen > WHSIGN_KEY_MAX))
		err = EINVAL;
	if (!err) {
		memcpy(key, buf, olen);
		*lenp = olen;
	}

	memset(buf, 0, sizeof(buf));

	return err;
}


/**
 * Sign a message: "v1,<base64 HMAC-SHA256>" over "id.timestamp.body"
 *
 * @param sig     Output, at least WHSIGN_SIG_LEN bytes
 * @param sz      Size of sig
 * @param secret  The endpoint's secret, "whsec_..."
 * @param msgid   Message id (the event id)
 * @param ts      Unix seconds of this attempt
 * @param body    The body exactly as sent
 * @param len     Body length
 *
 * @return 0 if success, otherwise errorcode
 */
int whsign_sign(char *sig, size_t sz, const char *secret, const char *msgid,
		uint64_t ts, const uint8_t *body, size_t len)
{
	uint8_t key[WHSIGN_KEY_MAX], md[SHA256_LEN];
	struct hmac *hmac = NULL;
	struct mbuf *mb = NULL;
	size_t keylen = 0, olen;
	int err;

	if (!sig || sz < WHSIGN_SIG_LEN || !secret || !str_isset(msgid) ||
	    (!body && len))
		return EINVAL;

	err = whsign_secret_decode(secret, key, &keylen);
	if (err)
		return err;

	mb = mbuf_alloc(str_len(msgid) + 24 + len);
	if (!mb) {
		err = ENOMEM;
		goto out;
	}

	err = mbuf_printf(mb, "%s.%llu.", msgid, (unsigned long long)ts);
	if (len)
		err |= mbuf_write_mem(mb, body, len);
	if (err)
		goto out;

	err = hmac_create(&hmac, HMAC_HASH_SHA256, key, keylen);
	if (err)
		goto out;

	err = hmac_digest(hmac, md, sizeof(md), mb->buf, mb->end);
	if (err)
		goto out;

	memcpy(sig, "v1,", 3);
	olen = sz - 4;
	err = base64_encode(md, sizeof(md), sig + 3, &olen);
	if (err)
		goto out;
	sig[3 + olen] = '\0';

 out:
	memset(key, 0, sizeof(key));
	mem_deref(hmac);
	mem_deref(mb);

	return err;
}
