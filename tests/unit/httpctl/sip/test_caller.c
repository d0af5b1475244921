/**
 * @file test_caller.c  Caller ID: what a name and a number may be, the
 *                      config's defaults, the From URI
 */

#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"


static void test_caller_set(void **state)
{
	struct caller c = {.name = "old", .number = "1"};
	char long_name[CALLER_NAME_MAX + 2];
	(void)state;

	assert_int_equal(0, caller_set(&c, "Front door", "200"));
	assert_string_equal("Front door", c.name);
	assert_string_equal("200", c.number);

	/* NULL keeps what is there */
	assert_int_equal(0, caller_set(&c, NULL, "+49*#7"));
	assert_string_equal("Front door", c.name);
	assert_string_equal("+49*#7", c.number);
	assert_int_equal(0, caller_set(&c, "T\xc3\xbcr", NULL));
	assert_string_equal("T\xc3\xbcr", c.name);

	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(EINVAL, caller_set(&c, long_name, NULL));
	long_name[CALLER_NAME_MAX] = '\0';
	assert_int_equal(0, caller_set(&c, long_name, NULL));

	/* what would break the quoted From, and bad numbers: c untouched */
	assert_int_equal(0, caller_set(&c, "ok", "1"));
	assert_int_equal(EINVAL, caller_set(&c, "a\"b", NULL));
	assert_int_equal(EINVAL, caller_set(&c, "a\\b", NULL));
	assert_int_equal(EINVAL, caller_set(&c, "a\r\nb", NULL));
	assert_int_equal(EINVAL, caller_set(&c, "\xff\xfe", NULL));
	assert_int_equal(EINVAL, caller_set(&c, "", NULL));
	assert_int_equal(EINVAL, caller_set(&c, NULL, ""));
	assert_int_equal(EINVAL, caller_set(&c, NULL, "12a"));
	assert_int_equal(EINVAL, caller_set(&c, NULL,
					    "123456789012345678901234567890123"));
	assert_int_equal(EINVAL, caller_set(&c, "fine", "1 2"));
	assert_string_equal("ok", c.name);
	assert_string_equal("1", c.number);
}


static void test_caller_conf(void **state)
{
	struct caller c;
	(void)state;

	assert_int_equal(0, caller_conf(&c, "sip_listen 0.0.0.0:5060\n"));
	assert_string_equal("", c.name);
	assert_string_equal("", c.number);

	/* the name to the end of its line, a comment after a blank cut */
	assert_int_equal(0, caller_conf(&c,
		"#httpctl_caller_name\tNot me\n"
		"httpctl_caller_name\tFront door  # the bell\n"
		"  httpctl_caller_number 200\r\n"
		"httpctl_caller_names Other\n"));
	assert_string_equal("Front door", c.name);
	assert_string_equal("200", c.number);

	assert_int_equal(0, caller_conf(&c, "httpctl_caller_name A#1\n"));
	assert_string_equal("A#1", c.name);

	assert_int_equal(EINVAL, caller_conf(&c,
					     "httpctl_caller_number 12x\n"));
	assert_int_equal(EINVAL, caller_conf(&c,
					     "httpctl_caller_name a\"b\n"));
}


static void test_caller_from_uri(void **state)
{
	char buf[128];
	(void)state;

	assert_int_equal(0, caller_from_uri(buf, sizeof(buf),
					    "sip:sipphone@10.0.0.2:5060",
					    "200"));
	assert_string_equal("sip:200@10.0.0.2:5060", buf);

	assert_int_equal(0, caller_from_uri(buf, sizeof(buf),
					    "sip:10.0.0.2", "+4930"));
	assert_string_equal("sip:+4930@10.0.0.2", buf);

	assert_int_equal(EINVAL, caller_from_uri(buf, sizeof(buf),
						 "sip:a@b", "x"));
	assert_int_equal(EINVAL, caller_from_uri(buf, sizeof(buf),
						 "tel:123", "1"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caller_set),
		cmocka_unit_test(test_caller_conf),
		cmocka_unit_test(test_caller_from_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
