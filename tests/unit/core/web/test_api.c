/**
 * @file test_api.c  The API front door: origin, auth, routing, bodies
 *
 * web_vreply() is replaced by a recorder (support/webstub.c), so each
 * test sees exactly what the server would have written, and
 * web_conn_peer() by the address a test sets.
 */

#include "unit.h"
#include "sipphone.h"
#include "webstub.h"


/* What the router wrote (webstub.c) */
static struct webstub_reply *const rep = &webstub_rep;


/* What the handlers saw */
static char seen_call[64];
static json_t *seen_body;


static void h_get(struct api_req *req, void *arg)
{
	(void)arg;
	str_ncpy(seen_call, api_param(req, "call"), sizeof(seen_call));
	api_reply(req, 200, json_pack("{s:b}", "ok", 1));
}


static void h_post(struct api_req *req, void *arg)
{
	(void)arg;
	json_decref(seen_body);
	seen_body = json_incref(req->body);
	api_reply(req, 201, json_object());
}


static void h_silent(struct api_req *req, void *arg)
{
	(void)req;
	(void)arg;
}


static const uint8_t raw_body[] = {'G', 'I', 'F', 0, 0xff, '\n'};

static int second_reply;   /* what a second answer returned */


static void h_raw(struct api_req *req, void *arg)
{
	(void)arg;
	api_reply_raw(req, 200, "Cache-Control: no-cache\r\n", "image/gif",
		      raw_body, sizeof(raw_body));
	second_reply = api_reply(req, 200, json_object());
}


static void h_text(struct api_req *req, void *arg)
{
	(void)arg;
	api_reply_text(req, 200, "text/plain", "m %u\n", 7);
}


static void h_query(struct api_req *req, void *arg)
{
	uint64_t after = 7;
	(void)arg;

	if (api_query_u64(req, "after", &after)) {
		api_error(req, 400, "invalid_query", "bad after");
		return;
	}
	api_reply(req, 200, json_pack("{s:I}", "after", (json_int_t)after));
}


struct fixture {
	struct auth *auth;
	struct api *api;
};


static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	if (auth_alloc(&f.auth) || auth_add_token(f.auth, "tok") ||
	    auth_add_origin(f.auth, "https://app.example") ||
	    api_alloc(&f.api, f.auth))
		return -1;

	api_route(f.api, "GET", "/", API_PUBLIC, h_get, NULL);
	api_route(f.api, "GET", "/healthz", API_PUBLIC, h_get, NULL);
	api_route(f.api, "GET", "/api/v1/calls/{call}", 0, h_get, NULL);
	api_route(f.api, "DELETE", "/api/v1/calls/{call}", 0, h_get, NULL);
	api_route(f.api, "POST", "/api/v1/calls", API_JSON, h_post, NULL);
	api_route(f.api, "GET", "/api/v1/silent", 0, h_silent, NULL);
	api_route(f.api, "GET", "/api/v1/events", 0, h_query, NULL);
	api_route(f.api, "GET", "/logo.gif", API_PUBLIC, h_raw, NULL);
	api_route(f.api, "GET", "/open", 0, h_text, NULL);
	api_route(f.api, "GET", "/metrics", API_TOKEN, h_text, NULL);
	api_route(f.api, "GET", "/metrics/local", API_TOKEN | API_LOOPBACK,
		  h_text, NULL);
	sa_set_str(&webstub_peer, "192.0.2.7", 40000);

	*state = &f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_deref(f->api);
	mem_deref(f->auth);
	json_decref(seen_body);
	seen_body = NULL;
	webstub_clear();

	return 0;
}


/* Run one request through the router */
static void run(struct fixture *f, const char *met, const char *path,
		const char *query, const char *authz, const char *origin,
		const char *ctype, const char *body)
{
	struct web_req wr;

	webstub_clear();
	memset(&wr, 0, sizeof(wr));
	wr.met = met;
	wr.path = path;
	wr.query = query ? query : "";
	wr.authz = authz;
	wr.origin = origin;
	wr.host = "pi:8000";
	wr.ctype = ctype;
	if (body) {
		wr.body = mbuf_alloc(64);
		mbuf_write_str(wr.body, body);
	}

	api_handle(&wr, f->api);

	mem_deref(wr.body);
}


static const char *err_field(const char *name)
{
	static char val[256];
	json_t *j = json_loads(rep->body, 0, NULL);

	/* not JSON: fails the caller's comparison */
	str_ncpy(val, j ? json_string_value(json_object_get(
			 json_object_get(j, "error"), name)) : "(invalid)",
		 sizeof(val));
	json_decref(j);

	return val;
}


static const char *err_code(void)
{
	return err_field("code");
}


static void routes_and_params(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/v1/calls/call_ab12", NULL, "Bearer tok", NULL,
	    NULL, NULL);
	assert_int_equal(200, rep->status);
	assert_string_equal("call_ab12", seen_call);

	/* a trailing slash is the same resource */
	run(f, "GET", "/api/v1/calls/x9/", NULL, "Bearer tok", NULL,
	    NULL, NULL);
	assert_int_equal(200, rep->status);
	assert_string_equal("x9", seen_call);

	run(f, "GET", "/api/v1/nope", NULL, "Bearer tok", NULL, NULL, NULL);
	assert_int_equal(404, rep->status);
	assert_string_equal("not_found", err_code());

	run(f, "GET", "/api/v1/calls/a/b/c", NULL, "Bearer tok", NULL,
	    NULL, NULL);
	assert_int_equal(404, rep->status);

	/* a target that is no path is not the root */
	run(f, "GET", "http://h/healthz", NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(404, rep->status);
	run(f, "GET", "*", NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(404, rep->status);

	/* deeper than any route may be */
	run(f, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13", NULL, NULL, NULL,
	    NULL, NULL);
	assert_int_equal(404, rep->status);
	assert_int_equal(EINVAL, api_route(f->api, "GET",
					   "/1/2/3/4/5/6/7/8/9/10/11/12/13",
					   0, h_get, NULL));

	run(f, "PUT", "/api/v1/calls/x", NULL, "Bearer tok", NULL, NULL,
	    NULL);
	assert_int_equal(405, rep->status);
	assert_string_equal("method_not_allowed", err_code());
	assert_non_null(strstr(rep->hdrs, "Allow: GET, DELETE\r\n"));

	/* a handler that forgets to answer still gets an answer */
	run(f, "GET", "/api/v1/silent", NULL, "Bearer tok", NULL, NULL,
	    NULL);
	assert_int_equal(500, rep->status);
	assert_int_equal(1, rep->calls);
}


static void auth_on_every_api_path(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/v1/calls/x", NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(401, rep->status);
	assert_string_equal("unauthorized", err_code());
	assert_non_null(strstr(rep->hdrs, "WWW-Authenticate: Bearer\r\n"));

	run(f, "GET", "/api/v1/calls/x", NULL, "Bearer wrong", NULL, NULL,
	    NULL);
	assert_int_equal(401, rep->status);

	/* unknown /api/ paths do not reveal themselves without a token */
	run(f, "GET", "/api/v1/nope", NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(401, rep->status);

	run(f, "GET", "/healthz", NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(200, rep->status);
}


static void json_bodies(void **state)
{
	struct fixture *f = *state;

	run(f, "POST", "/api/v1/calls", NULL, "Bearer tok", NULL,
	    "application/json; charset=utf-8", "{\"line\":\"100\"}");
	assert_int_equal(201, rep->status);
	assert_string_equal("100", json_string_value(
				json_object_get(seen_body, "line")));

	/* no body at all is an empty object */
	run(f, "POST", "/api/v1/calls", NULL, "Bearer tok", NULL, NULL,
	    NULL);
	assert_int_equal(201, rep->status);
	assert_int_equal(0, json_object_size(seen_body));

	run(f, "POST", "/api/v1/calls", NULL, "Bearer tok", NULL,
	    " Application/JSON;charset=utf-8", "{\"line\":\"101\"}");
	assert_int_equal(201, rep->status);

	run(f, "POST", "/api/v1/calls", NULL, "Bearer tok", NULL,
	    "application/jsonx", "{\"line\":\"100\"}");
	assert_int_equal(415, rep->status);

	run(f, "POST", "/api/v1/calls", NULL, "Bearer tok", NULL,
	    "text/plain", "{\"line\":\"100\"}");
	assert_int_equal(415, rep->status);
	assert_string_equal("unsupported_media_type", err_code());

	run(f, "POST", "/api/v1/calls", NULL, "Bearer tok", NULL,
	    "application/json", "{\"line\":");
	assert_int_equal(400, rep->status);
	assert_string_equal("invalid_json", err_code());

	run(f, "POST", "/api/v1/calls", NULL, "Bearer tok", NULL,
	    "application/json", "[1,2]");
	assert_int_equal(400, rep->status);

	run(f, "POST", "/api/v1/calls", NULL, "Bearer tok", NULL,
	    "application/json", "{\"a\":1,\"a\":2}");
	assert_int_equal(400, rep->status);
}


static void origins_and_cors(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/v1/calls/x", NULL, "Bearer tok",
	    "http://evil.example", NULL, NULL);
	assert_int_equal(403, rep->status);
	assert_string_equal("origin_not_allowed", err_code());

	run(f, "GET", "/api/v1/calls/x", NULL, "Bearer tok",
	    "https://app.example", NULL, NULL);
	assert_int_equal(200, rep->status);
	assert_non_null(strstr(rep->hdrs, "Access-Control-Allow-Origin: "
			       "https://app.example\r\n"));

	/* same origin: served, and no CORS header is needed */
	run(f, "GET", "/api/v1/calls/x", NULL, "Bearer tok",
	    "http://pi:8000", NULL, NULL);
	assert_int_equal(200, rep->status);
	assert_null(strstr(rep->hdrs, "Access-Control-Allow-Origin"));

	run(f, "OPTIONS", "/api/v1/calls", NULL, NULL, "https://app.example",
	    NULL, NULL);
	assert_int_equal(204, rep->status);
	assert_non_null(strstr(rep->hdrs, "Access-Control-Allow-Headers: "
			       "Authorization, Content-Type\r\n"));

	run(f, "OPTIONS", "/api/v1/calls", NULL, NULL, "http://evil.example",
	    NULL, NULL);
	assert_int_equal(403, rep->status);
}


static void queries(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/api/v1/events", "limit=3&after=42", "Bearer tok",
	    NULL, NULL, NULL);
	assert_int_equal(200, rep->status);
	assert_string_equal("{\"after\":42}", rep->body);

	run(f, "GET", "/api/v1/events", NULL, "Bearer tok", NULL, NULL, NULL);
	assert_string_equal("{\"after\":7}", rep->body);

	run(f, "GET", "/api/v1/events", "after=-1", "Bearer tok", NULL,
	    NULL, NULL);
	assert_int_equal(400, rep->status);
	run(f, "GET", "/api/v1/events", "after=abc", "Bearer tok", NULL,
	    NULL, NULL);
	assert_int_equal(400, rep->status);
	run(f, "GET", "/api/v1/events", "after=", "Bearer tok", NULL,
	    NULL, NULL);
	assert_int_equal(400, rep->status);
	run(f, "GET", "/api/v1/events", "after=99999999999999999999",
	    "Bearer tok", NULL, NULL, NULL);
	assert_int_equal(400, rep->status);
}


/* 401 as every API path gives it */
static void assert_unauthorized(void)
{
	assert_int_equal(401, rep->status);
	assert_string_equal("Cache-Control: no-store\r\n"
			    "WWW-Authenticate: Bearer\r\n", rep->hdrs);
	assert_string_equal("application/json", rep->ctype);
	assert_string_equal("{\"error\":{\"code\":\"unauthorized\","
			    "\"message\":\"a valid bearer token is required"
			    "\"}}", rep->body);
}


static void token_flags(void **state)
{
	struct fixture *f = *state;
	static const char *const loopv[] = {"127.0.0.1", "127.9.8.7", "::1",
					    "::ffff:127.0.0.2"};
	size_t i;

	/* outside /api/ a route needs no token unless it says so */
	run(f, "GET", "/open", NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(200, rep->status);

	run(f, "GET", "/metrics", NULL, NULL, NULL, NULL, NULL);
	assert_unauthorized();
	run(f, "GET", "/metrics", NULL, "Bearer wrong", NULL, NULL, NULL);
	assert_unauthorized();
	run(f, "GET", "/metrics", NULL, "Bearer tok", NULL, NULL, NULL);
	assert_int_equal(200, rep->status);
	assert_string_equal("m 7\n", rep->body);

	/* API_TOKEN alone: loopback is no exception */
	sa_set_str(&webstub_peer, "127.0.0.1", 40000);
	run(f, "GET", "/metrics", NULL, NULL, NULL, NULL, NULL);
	assert_unauthorized();

	/* API_LOOPBACK: none needed from this machine ... */
	for (i = 0; i < ARRAY_SIZE(loopv); i++) {
		sa_set_str(&webstub_peer, loopv[i], 40000);
		run(f, "GET", "/metrics/local", NULL, NULL, NULL, NULL, NULL);
		assert_int_equal(200, rep->status);
	}

	/* ... a token from anywhere, and nothing else */
	sa_set_str(&webstub_peer, "192.0.2.7", 40000);
	run(f, "GET", "/metrics/local", NULL, NULL, NULL, NULL, NULL);
	assert_unauthorized();
	run(f, "GET", "/metrics/local", NULL, "Bearer tok", NULL, NULL, NULL);
	assert_int_equal(200, rep->status);
	sa_set_str(&webstub_peer, "::ffff:192.0.2.7", 40000);
	run(f, "GET", "/metrics/local", NULL, NULL, NULL, NULL, NULL);
	assert_unauthorized();
	sa_set_str(&webstub_peer, "::2", 40000);
	run(f, "GET", "/metrics/local", NULL, NULL, NULL, NULL, NULL);
	assert_unauthorized();

	/* the flags contradict each other */
	assert_int_equal(EINVAL, api_route(f->api, "GET", "/x",
					   API_PUBLIC | API_TOKEN, h_text,
					   NULL));
}


static void raw_replies(void **state)
{
	struct fixture *f = *state;

	/* the caller's headers only, the body byte for byte */
	run(f, "GET", "/logo.gif", NULL, NULL, "https://app.example", NULL,
	    NULL);
	assert_int_equal(200, rep->status);
	assert_int_equal(1, rep->calls);
	assert_string_equal("Cache-Control: no-cache\r\n", rep->hdrs);
	assert_string_equal("image/gif", rep->ctype);
	assert_int_equal(sizeof(raw_body), rep->blen);
	assert_memory_equal(raw_body, rep->body, sizeof(raw_body));

	/* one answer per request, whichever function tries again */
	assert_int_equal(EALREADY, second_reply);

	/* the API's replies carry no-store */
	run(f, "GET", "/open", NULL, NULL, NULL, NULL, NULL);
	assert_string_equal("Cache-Control: no-store\r\n", rep->hdrs);
	assert_string_equal("text/plain", rep->ctype);
}


/* A message quoting what a client sent stays JSON, whatever it holds */
static void errors_escaped(void **state)
{
	struct fixture *f = *state;

	run(f, "GET", "/a\"b\\c\x01\xff", NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(404, rep->status);
	assert_string_equal("{\"error\":{\"code\":\"not_found\","
			    "\"message\":\"no such resource: /a\\\"b\\\\c"
			    "\\u0001\\uFFFD\"}}", rep->body);
	assert_string_equal("no such resource: /a\"b\\c\x01\xef\xbf\xbd",
			    err_field("message"));

	/* UTF-8 passes as it is */
	run(f, "GET", "/caf\xc3\xa9", NULL, NULL, NULL, NULL, NULL);
	assert_string_equal("no such resource: /caf\xc3\xa9",
			    err_field("message"));

	run(f, "GET", "/api/v1/calls/x", NULL, "Bearer tok",
	    "http://e\"vil\\", NULL, NULL);
	assert_int_equal(403, rep->status);
	assert_string_equal("origin http://e\"vil\\ is not allowed",
			    err_field("message"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(routes_and_params),
		cmocka_unit_test(auth_on_every_api_path),
		cmocka_unit_test(json_bodies),
		cmocka_unit_test(origins_and_cors),
		cmocka_unit_test(queries),
		cmocka_unit_test(token_flags),
		cmocka_unit_test(raw_replies),
		cmocka_unit_test(errors_escaped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
