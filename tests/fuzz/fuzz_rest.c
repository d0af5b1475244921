/**
 * @file fuzz_rest.c  The argument checks of REST JSON bodies
 *             (webhook/endpoint.c with url.c and filter.c; api/callargs.c)
 *
 * Input: a request body. It is decoded as the router decodes it, but
 * any JSON value goes on (a WebSocket command's "args" is whatever the
 * client sent), and meets every check a body meets before any state is
 * looked at: a new webhook (its URL, filters and description) and the
 * call operations (dial, the call named, DTMF digits).
 *
 * A check that says yes must mean it: what it let through is checked
 * again here the long way. One that says no answers 400 invalid_field,
 * with an error body that is JSON.
 */

#include <assert.h>
#include <stdlib.h>
#include "sipphone.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"
#include "fuzz.h"


/* dtmf.c, linked for its digit check, sends digits through baresip,
   which is not here: the checks never send one */
int call_send_digit(struct call *call, char key)
{
	(void)call;
	(void)key;
	abort();
}


/* A refusal is a 400 whose body parses */
static void refusal_check(const struct sp_err *e)
{
	json_t *body;
	char *s = NULL;

	assert(e->status == 400);
	assert(0 == str_cmp(e->code, "invalid_field"));
	assert(str_isset(e->msg));

	assert(0 == re_sdprintf(&s, "%H", sp_err_print, e));
	body = json_loads(s, 0, NULL);
	assert(json_is_object(json_object_get(body, "error")));
	json_decref(body);
	mem_deref(s);
}


/* An accepted filter matches what it says it matches */
static void filter_check(const struct webhook *wh, const char *f)
{
	size_t len = strlen(f);
	char type[160];

	assert(webhook_filter_valid(f));
	assert(len <= 128);

	if (0 == strcmp(f, "*")) {
		assert(webhook_matches(wh, "call.ended"));
	}
	else if (f[len - 1] == '*') {
		/* "call.*": the prefix "call." and one word more */
		assert(len > 2 && f[len - 2] == '.');
		re_snprintf(type, sizeof(type), "%bx", f, len - 1);
		assert(webhook_matches(wh, type));
	}
	else {
		assert(webhook_matches(wh, f) ==
		       (0 != strcmp(f, "webhook.test")));
	}

	assert(!webhook_matches(wh, "webhook.test"));
}


static void webhook_args(const json_t *args)
{
	const json_t *jdesc = json_object_get(args, "description");
	struct webhook wh;
	struct webhook_url u;
	struct sp_err e;
	size_t i, n;

	if (webhooks_create_check(args, &e)) {
		refusal_check(&e);
		return;
	}

	assert(json_is_object(args));
	assert(0 == webhook_url_decode(&u, json_string_value(
		       json_object_get(args, "url")), NULL));
	assert(!jdesc || json_is_null(jdesc) ||
	       (json_is_string(jdesc) && json_string_length(jdesc) <= 256));

	memset(&wh, 0, sizeof(wh));
	wh.events = json_object_get(args, "events");
	n = json_array_size(wh.events);
	assert(n >= 1 && n <= 64);

	for (i = 0; i < n; i++)
		filter_check(&wh, json_string_value(json_array_get(wh.events,
								   i)));
}


static void call_args(const json_t *args)
{
	const json_t *jdigits = json_object_get(args, "digits");
	static const struct caller deflt = {.name = "sipphone"};
	struct caller caller;
	struct sp_err e;
	uint32_t ring_s = 0;
	const char *d;
	size_t i;

	if (callargs_dial(args, &deflt, &ring_s, &caller, &e))
		refusal_check(&e);
	else {
		assert(ring_s >= 1 && ring_s <= 600);
		assert(!strpbrk(caller.name, "\"\\\r\n"));
		assert(strspn(caller.number, "0123456789*#+") ==
		       strlen(caller.number));
	}

	if (callargs_call(json_object_get(args, "call"), &e))
		refusal_check(&e);

	if (callargs_digits(jdigits, &e)) {
		refusal_check(&e);
		return;
	}

	d = json_string_value(jdigits);
	assert(d && strlen(d) >= 1 && strlen(d) <= 32);
	for (i = 0; d[i]; i++)
		assert(strchr("0123456789*#ABCDabcd", d[i]));
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body;

	body = json_loadb((const char *)data, size,
			  JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	if (!body)
		return 0;

	webhook_args(body);
	call_args(body);

	json_decref(body);

	return 0;
}
