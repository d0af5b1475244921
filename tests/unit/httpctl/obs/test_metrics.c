/**
 * @file test_metrics.c  Prometheus label values, escaped
 */

#include "unit.h"
#include "sipphone.h"
#include "obs/obs.h"


static void escaped(const char *value, const char *want)
{
	char *s = NULL;

	assert_int_equal(0, re_sdprintf(&s, "l=\"%H\"", metrics_label_print,
					value));
	if (strcmp(s, want))
		fail_msg("%s, not %s", s, want);
	mem_deref(s);
}


static void plain_values_are_as_they_are(void **state)
{
	(void)state;

	escaped("100", "l=\"100\"");
	escaped("", "l=\"\"");
	escaped(NULL, "l=\"\"");
	escaped("0.1.0 (baresip 1.0.0)", "l=\"0.1.0 (baresip 1.0.0)\"");

	/* UTF-8, a tab and a CR are not escaped by the text format */
	escaped("caf\xc3\xa9", "l=\"caf\xc3\xa9\"");
	escaped("a\tb\rc", "l=\"a\tb\rc\"");
}


static void backslash_quote_and_newline_are_escaped(void **state)
{
	(void)state;

	escaped("a\\b", "l=\"a\\\\b\"");
	escaped("say \"hi\"", "l=\"say \\\"hi\\\"\"");
	escaped("one\ntwo", "l=\"one\\ntwo\"");
	escaped("\\\"\n", "l=\"\\\\\\\"\\n\"");

	/* an escape never eats what follows it */
	escaped("\\n", "l=\"\\\\n\"");
	escaped("\"}  1\nevil{x=\"", "l=\"\\\"}  1\\nevil{x=\\\"\"");
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_values_are_as_they_are),
		cmocka_unit_test(backslash_quote_and_newline_are_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
