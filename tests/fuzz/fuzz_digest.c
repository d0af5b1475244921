/**
 * @file fuzz_digest.c  Digest credentials and our nonces (sip/digest.c)
 *
 * Input: the value of an Authorization or Proxy-Authorization header of
 * a REGISTER or INVITE. Credentials that decode have their nonce checked
 * (as from 192.168.1.50) and their response verified, as sipauth.c does.
 */

#include <assert.h>
#include "sipphone.h"
#include "sip/sip.h"
#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = {
		0x5a, 0x17, 0x03, 0x9c, 0xee, 0x41, 0x88, 0x02,
	};
	struct digest_cred cred;
	char ha1[DIGEST_HEX_MAX + 1];
	struct pl hval, met, user, realm, pass;
	struct sa src;
	uint64_t t;

	hval.p = (const char *)data;
	hval.l = size;

	if (digest_cred_decode(&cred, &hval))
		return 0;

	/* what decodes points into the header */
	assert(!cred.nonce.l || (cred.nonce.p >= hval.p &&
				 cred.nonce.p + cred.nonce.l <=
				 hval.p + hval.l));

	(void)sa_set_str(&src, "192.168.1.50", 5060);
	(void)digest_nonce_check(&t, &cred.nonce, key, sizeof(key), &src);

	pl_set_str(&met, "REGISTER");
	pl_set_str(&user, "100");
	pl_set_str(&realm, "sipphone");
	pl_set_str(&pass, "secret");
	if (0 == digest_ha1(ha1, cred.alg, &user, &realm, &pass))
		(void)digest_verify(&cred, &met, ha1);

	return 0;
}
