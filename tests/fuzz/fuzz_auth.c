/**
 * @file fuzz_auth.c  Authorization and Origin checks (core/web/auth.c)
 *
 * Input: an Authorization header value, a newline, an Origin value, a
 * newline, a Host value (missing parts are absent headers).
 */

#include "sipphone.h"
#include "fuzz.h"


static struct auth *auth;


static int auth_make(void)
{
	if (auth)
		return 0;

	if (auth_alloc(&auth) ||
	    auth_add_token(auth, "3q2-7wAAsecrettokenAAAAAAAAAAAAA") ||
	    auth_add_origin(auth, "http://pi.local:8000"))
		return ENOMEM;

	return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	char *origin = NULL, *host = NULL;

	/* one store for the whole run, as in the service */
	if (!s || auth_make()) {
		mem_deref(s);
		return 0;
	}

	origin = strchr(s, '\n');
	if (origin) {
		*origin++ = '\0';
		host = strchr(origin, '\n');
		if (host)
			*host++ = '\0';
	}

	(void)auth_bearer_ok(auth, s);
	(void)auth_token_ok(auth, s);
	(void)auth_origin_ok(auth, origin, host);
	(void)auth_origin_listed(auth, origin);

	mem_deref(s);

	return 0;
}
