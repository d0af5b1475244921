/**
 * @file test_wscmd.c  WebSocket command messages: JSON text to id,
 *                     command and args, or the error a client is sent
 */

#include "unit.h"
#include "sipphone.h"


/* Two known commands; what the hub would find is their name's address */
static const char *const commandv[] = {"answer", "mark"};


static const void *find_handler(const char *name, void *arg)
{
	size_t i;

	++*(unsigned *)arg;

	for (i = 0; i < ARRAY_SIZE(commandv); i++) {
		if (0 == str_cmp(name, commandv[i]))
			return &commandv[i];
	}

	return NULL;
}


/* Decode text, expecting errorcode 0 or the error's status and code */
static int decode(struct wscmd *cmd, const char *text, struct sp_err *e)
{
	unsigned finds = 0;

	memset(e, 0, sizeof(*e));

	return wscmd_decode(cmd, text, strlen(text), find_handler, &finds,
			    e);
}


static void assert_refused(const char *text, const char *code)
{
	struct wscmd cmd;
	struct sp_err e;

	assert_int_equal(EINVAL, decode(&cmd, text, &e));
	assert_int_equal(400, e.status);
	assert_string_equal(code, e.code);
	assert_true(str_isset(e.msg));
	assert_null(cmd.args);

	wscmd_reset(&cmd);
}


static void a_command_with_args(void **state)
{
	struct wscmd cmd;
	struct sp_err e;
	(void)state;

	assert_int_equal(0, decode(&cmd, "{\"type\":\"command\",\"id\":\"a1\","
				   "\"command\":\"mark\","
				   "\"args\":{\"name\":\"x\"}}", &e));
	assert_string_equal("a1", json_string_value(cmd.id));
	assert_string_equal("mark", cmd.name);
	assert_ptr_equal(&commandv[1], cmd.found);
	assert_string_equal("x", json_string_value(
				    json_object_get(cmd.args, "name")));
	assert_null(e.code);

	wscmd_reset(&cmd);
	assert_null(cmd.msg);
	assert_null(cmd.args);
}


static void without_args_or_id(void **state)
{
	struct wscmd cmd;
	struct sp_err e;
	(void)state;

	/* no args: an empty object; an integer id; keys in any order */
	assert_int_equal(0, decode(&cmd, "{\"command\":\"answer\",\"id\":7,"
				   "\"type\":\"command\"}", &e));
	assert_int_equal(7, json_integer_value(cmd.id));
	assert_ptr_equal(&commandv[0], cmd.found);
	assert_true(json_is_object(cmd.args));
	assert_int_equal(0, json_object_size(cmd.args));
	wscmd_reset(&cmd);

	/* no id: answered with id null */
	assert_int_equal(0, decode(&cmd, "{\"type\":\"command\","
				   "\"command\":\"answer\",\"args\":{}}", &e));
	assert_null(cmd.id);
	wscmd_reset(&cmd);
}


static void invalid_json(void **state)
{
	struct wscmd cmd;
	struct sp_err e;
	(void)state;

	assert_refused("", "invalid_json");
	assert_refused("{\"type\":", "invalid_json");
	assert_refused("{\"type\":\"command\"} x", "invalid_json");
	assert_refused("{\"type\":\"command\",\"type\":\"command\"}",
		       "invalid_json");

	assert_int_equal(EINVAL, decode(&cmd, "{oops}", &e));
	assert_string_equal("invalid JSON at column 5: string or '}' expected"
			    " near 'oops'", e.msg);
	assert_null(cmd.id);
	wscmd_reset(&cmd);
}


static void invalid_message(void **state)
{
	struct wscmd cmd;
	struct sp_err e;
	(void)state;

	/* JSON, but not an object */
	assert_refused("42", "invalid_message");
	assert_refused("\"command\"", "invalid_message");
	assert_refused("null", "invalid_message");
	assert_refused("[{\"type\":\"command\"}]", "invalid_message");

	/* an object of another type, or none */
	assert_refused("{}", "invalid_message");
	assert_refused("{\"type\":\"event\",\"command\":\"answer\"}",
		       "invalid_message");
	assert_refused("{\"type\":1}", "invalid_message");

	/* the id is echoed, whatever it is, before the type is known */
	assert_int_equal(EINVAL, decode(&cmd, "{\"type\":\"x\",\"id\":\"q\"}",
					&e));
	assert_string_equal("invalid_message", e.code);
	assert_string_equal("q", json_string_value(cmd.id));
	wscmd_reset(&cmd);
}


static void invalid_field(void **state)
{
	static const char *const idv[] = {"1.5", "null", "true", "[1]",
					  "{}"};
	struct wscmd cmd;
	struct sp_err e;
	char text[128];
	size_t i;
	(void)state;

	/* an id that is neither a string nor an integer is not echoed */
	for (i = 0; i < ARRAY_SIZE(idv); i++) {
		re_snprintf(text, sizeof(text), "{\"type\":\"command\","
			    "\"id\":%s,\"command\":\"answer\"}", idv[i]);
		assert_int_equal(EINVAL, decode(&cmd, text, &e));
		assert_string_equal("invalid_field", e.code);
		assert_non_null(strstr(e.msg, "\"id\""));
		assert_null(cmd.id);
		wscmd_reset(&cmd);
	}

	/* args that are not an object */
	assert_int_equal(EINVAL, decode(&cmd, "{\"type\":\"command\",\"id\":3,"
					"\"command\":\"answer\","
					"\"args\":[1]}", &e));
	assert_string_equal("invalid_field", e.code);
	assert_non_null(strstr(e.msg, "\"args\""));
	assert_int_equal(3, json_integer_value(cmd.id));
	wscmd_reset(&cmd);

	assert_refused("{\"type\":\"command\",\"command\":\"answer\","
		       "\"args\":null}", "invalid_field");
	assert_refused("{\"type\":\"command\",\"command\":\"answer\","
		       "\"args\":\"x\"}", "invalid_field");
}


static void unknown_command(void **state)
{
	struct wscmd cmd;
	struct sp_err e;
	(void)state;

	assert_int_equal(EINVAL, decode(&cmd, "{\"type\":\"command\",\"id\":1,"
					"\"command\":\"fly\"}", &e));
	assert_string_equal("unknown_command", e.code);
	assert_string_equal("unknown command fly", e.msg);
	assert_int_equal(1, json_integer_value(cmd.id));
	wscmd_reset(&cmd);

	assert_int_equal(EINVAL, decode(&cmd, "{\"type\":\"command\"}", &e));
	assert_string_equal("unknown command (none)", e.msg);
	wscmd_reset(&cmd);

	assert_refused("{\"type\":\"command\",\"command\":5}",
		       "unknown_command");
	assert_refused("{\"type\":\"command\",\"command\":\"ANSWER\"}",
		       "unknown_command");

	/* the command is looked for before its args are */
	assert_refused("{\"type\":\"command\",\"command\":\"fly\","
		       "\"args\":7}", "unknown_command");
}


static void bad_arguments(void **state)
{
	struct wscmd cmd;
	struct sp_err e;
	unsigned finds = 0;
	(void)state;

	assert_int_equal(EINVAL, wscmd_decode(NULL, "{}", 2, find_handler,
					      &finds, &e));
	assert_int_equal(EINVAL, wscmd_decode(&cmd, "{}", 2, NULL, &finds,
					      &e));
	assert_null(cmd.msg);
	assert_int_equal(EINVAL, wscmd_decode(&cmd, "{}", 2, find_handler,
					      &finds, NULL));
	assert_int_equal(0, finds);

	wscmd_reset(&cmd);
	wscmd_reset(NULL);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_command_with_args),
		cmocka_unit_test(without_args_or_id),
		cmocka_unit_test(invalid_json),
		cmocka_unit_test(invalid_message),
		cmocka_unit_test(invalid_field),
		cmocka_unit_test(unknown_command),
		cmocka_unit_test(bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
