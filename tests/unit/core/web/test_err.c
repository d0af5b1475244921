/**
 * @file test_err.c  The error bodies the web layer sends (core/base/err.c)
 *
 * A refused WebSocket quotes the client's path or Origin in its message
 * ("no WebSocket at /ws\"x", "origin ... is not allowed"); web_ws.c
 * prints it with sp_err_print(), as every other error body. Whatever the
 * client sent, the body must stay JSON and say exactly that.
 */

#include "unit.h"
#include "sipphone.h"


/* The body refuse() in web_ws.c sends for an error */
static char *body_of(const struct sp_err *e)
{
	char *s = NULL;

	assert_int_equal(0, re_sdprintf(&s, "%H", sp_err_print, e));

	return s;
}


/* Parse a body and return its message (static), failing if not JSON */
static const char *message_of(const char *body, const char *code)
{
	static char msg[256];
	json_error_t jerr;
	json_t *j = json_loads(body, JSON_REJECT_DUPLICATES, &jerr);
	json_t *e;

	if (!j)
		fail_msg("not JSON: %s (%s)", body, jerr.text);

	e = json_object_get(j, "error");
	assert_int_equal(2, json_object_size(e));
	assert_string_equal(code, json_string_value(json_object_get(e,
								 "code")));
	str_ncpy(msg, json_string_value(json_object_get(e, "message")),
		 sizeof(msg));
	json_decref(j);

	return msg;
}


static void refused_path_and_origin(void **state)
{
	struct sp_err e;
	char *body;
	(void)state;

	/* as wshub's accept handler words its refusals */
	sp_err_set(&e, 404, "not_found", "no WebSocket at %s",
		   "/ws\"},\"x\":{\"y\\");
	body = body_of(&e);
	assert_string_equal("{\"error\":{\"code\":\"not_found\",\"message\":"
			    "\"no WebSocket at /ws\\\"},\\\"x\\\":{\\\"y\\\\"
			    "\"}}", body);
	assert_string_equal("no WebSocket at /ws\"},\"x\":{\"y\\",
			    message_of(body, "not_found"));
	mem_deref(body);

	sp_err_set(&e, 403, "origin_not_allowed", "origin %s is not allowed",
		   "http://a\tb\r\nc\x7f");
	body = body_of(&e);
	assert_string_equal("origin http://a\tb\r\nc\x7f is not allowed",
			    message_of(body, "origin_not_allowed"));
	mem_deref(body);
}


static void bytes_that_are_not_utf8(void **state)
{
	struct sp_err e;
	char path[300];
	char *body;
	(void)state;

	/* a lone continuation byte, an overlong '/', a surrogate */
	sp_err_set(&e, 404, "not_found", "at %s", "/\x80/\xc0\xaf/\xed\xa0\x80");
	body = body_of(&e);
	assert_string_equal("at /\xef\xbf\xbd/\xef\xbf\xbd\xef\xbf\xbd/"
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
			    message_of(body, "not_found"));
	mem_deref(body);

	/* a message cut to sp_err's size may end inside a character */
	memset(path, 'a', sizeof(path));
	for (size_t i = 0; i + 1 < sizeof(path); i += 2)
		memcpy(path + i, "\xc3\xa9", 2);
	path[sizeof(path) - 1] = '\0';
	sp_err_set(&e, 404, "not_found", "x%s", path);
	body = body_of(&e);
	assert_non_null(message_of(body, "not_found"));
	mem_deref(body);
}


static void null_arguments(void **state)
{
	struct sp_err e;
	char *s = NULL;
	(void)state;

	sp_err_set(&e, 400, "bad_request", "x");
	e.code = NULL;
	assert_int_equal(EINVAL, re_sdprintf(&s, "%H", sp_err_print, &e));
	assert_int_equal(EINVAL, re_sdprintf(&s, "%H", sp_err_print, NULL));
	mem_deref(s);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refused_path_and_origin),
		cmocka_unit_test(bytes_that_are_not_utf8),
		cmocka_unit_test(null_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
