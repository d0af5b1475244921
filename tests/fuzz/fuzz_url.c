/**
 * @file fuzz_url.c  Webhook URLs (webhook/url.c)
 *
 * Input: the "url" of POST /api/v1/webhooks. The parts of a URL that
 * decodes must lie inside it.
 */

#include <assert.h>
#include "sipphone.h"
#include "webhook/webhook.h"
#include "fuzz.h"


static void inside(const struct pl *pl, const char *s, size_t len)
{
	if (!pl->l)
		return;

	assert(pl->p >= s && pl->p + pl->l <= s + len);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = fuzz_str(data, size);
	struct webhook_url u;
	const char *why = NULL;

	if (!url)
		return 0;

	if (0 == webhook_url_decode(&u, url, &why)) {
		inside(&u.host, url, size);
		inside(&u.hostport, url, size);
		inside(&u.path, url, size);
		assert(u.port != 0);
	}
	else {
		assert(why != NULL);
	}

	mem_deref(url);

	return 0;
}
