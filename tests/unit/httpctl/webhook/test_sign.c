/**
 * @file test_sign.c  Webhook secrets and signatures
 *
 * The reference vector is the Standard Webhooks project's own
 * (standard-webhooks/standard-webhooks, libraries/go/webhook_test.go,
 * TestWebhookSign); Python's hmac/base64 give the same signature.
 */

#include "unit.h"
#include "sipphone.h"
#include "webhook/webhook.h"


static const char ref_secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char ref_id[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
static const uint64_t ref_ts = 1614265330;
static const char ref_body[] = "{\"test\": 2432232314}";
static const char ref_sig[] =
	"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";


static int sign(char *sig, const char *secret, const char *id, uint64_t ts,
		const char *body)
{
	return whsign_sign(sig, WHSIGN_SIG_LEN, secret, id, ts,
			   (const uint8_t *)body, strlen(body));
}


static void reference_vector_signs_alike(void **state)
{
	char sig[WHSIGN_SIG_LEN];
	(void)state;

	assert_int_equal(0, sign(sig, ref_secret, ref_id, ref_ts, ref_body));
	assert_string_equal(ref_sig, sig);
}


static void any_change_changes_the_signature(void **state)
{
	char sig[WHSIGN_SIG_LEN];
	(void)state;

	assert_int_equal(0, sign(sig, ref_secret, ref_id, ref_ts + 1,
				 ref_body));
	assert_string_not_equal(ref_sig, sig);

	assert_int_equal(0, sign(sig, ref_secret,
				 "msg_p5jXN8AQM9LWM0D4loKWxJel", ref_ts,
				 ref_body));
	assert_string_not_equal(ref_sig, sig);

	assert_int_equal(0, sign(sig, ref_secret, ref_id, ref_ts,
				 "{\"test\": 2432232315}"));
	assert_string_not_equal(ref_sig, sig);

	/* the key is the decoded bytes: another secret, another signature */
	assert_int_equal(0, sign(sig, "whsec_NfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				 ref_id, ref_ts, ref_body));
	assert_string_not_equal(ref_sig, sig);
}


static void sign_refuses_bad_arguments(void **state)
{
	char sig[WHSIGN_SIG_LEN];
	(void)state;

	assert_int_equal(EINVAL, whsign_sign(sig, WHSIGN_SIG_LEN - 1,
				ref_secret, ref_id, ref_ts,
				(const uint8_t *)"{}", 2));
	assert_int_equal(EINVAL, sign(sig, ref_secret, "", ref_ts, "{}"));
	assert_int_equal(EINVAL, sign(sig, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				      ref_id, ref_ts, "{}"));
	assert_int_equal(EINVAL, whsign_sign(sig, sizeof(sig), ref_secret,
					     ref_id, ref_ts, NULL, 2));

	/* an empty body is a body */
	assert_int_equal(0, sign(sig, ref_secret, ref_id, ref_ts, ""));
}


static void new_secret_is_prefixed_random_base64(void **state)
{
	uint8_t key[WHSIGN_KEY_MAX];
	char *a = NULL, *b = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(0, whsign_secret_new(&a));
	assert_int_equal(0, whsign_secret_new(&b));

	assert_int_equal(0, strncmp(a, "whsec_", 6));
	/* 32 bytes: 44 base64 characters */
	assert_int_equal(6 + 44, strlen(a));
	assert_string_not_equal(a, b);

	assert_int_equal(0, whsign_secret_decode(a, key, &len));
	assert_int_equal(WHSIGN_KEY_BYTES, len);

	mem_deref(a);
	mem_deref(b);
}


static void secret_encodes_and_decodes_back(void **state)
{
	uint8_t key[WHSIGN_KEY_MIN], out[WHSIGN_KEY_MAX];
	char *secret = NULL;
	size_t i, len = 0;
	(void)state;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 1);

	assert_int_equal(0, whsign_secret_encode(&secret, key, sizeof(key)));
	assert_int_equal(0, whsign_secret_decode(secret, out, &len));
	assert_int_equal(sizeof(key), len);
	assert_memory_equal(key, out, len);
	mem_deref(secret);

	/* the reference secret holds 24 bytes */
	assert_int_equal(0, whsign_secret_decode(ref_secret, out, &len));
	assert_int_equal(24, len);

	/* keys out of range are not made */
	assert_int_equal(EINVAL, whsign_secret_encode(&secret, key,
						      WHSIGN_KEY_MIN - 1));
}


static void malformed_secrets_are_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"whsec_",
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",           /* no prefix  */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",       /* 31 chars   */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w",      /* not base64 */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La=aSw",      /* = inside   */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La",          /* 21 bytes   */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "      /* a space    */
		"   ",
	};
	uint8_t key[WHSIGN_KEY_MAX];
	size_t i, len;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(EINVAL, whsign_secret_decode(bad[i], key,
							      &len));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_vector_signs_alike),
		cmocka_unit_test(any_change_changes_the_signature),
		cmocka_unit_test(sign_refuses_bad_arguments),
		cmocka_unit_test(new_secret_is_prefixed_random_base64),
		cmocka_unit_test(secret_encodes_and_decodes_back),
		cmocka_unit_test(malformed_secrets_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
