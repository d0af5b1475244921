/**
 * @file test_utf8.c  Strings from the network made valid UTF-8 (utf8.c)
 *
 * Every case is checked twice: the exact bytes utf8_clean() gives, and
 * that jansson takes them as a JSON string.
 */

#include "unit.h"
#include "sipphone.h"


#define FFFD "\xef\xbf\xbd"


/* Clean n bytes of s, check the result is expect and JSON takes it */
static void check(const char *s, size_t n, const char *expect)
{
	char *out = NULL;
	json_t *js;

	assert_int_equal(0, utf8_clean(&out, s, n));
	assert_non_null(out);
	assert_string_equal(expect, out);

	js = json_string(out);
	assert_non_null(js);
	json_decref(js);

	mem_deref(out);
}

#define CHECK(lit, expect) check(lit, sizeof(lit) - 1, expect)


static void valid_text_is_kept(void **state)
{
	(void)state;

	CHECK("", "");
	CHECK("Grandstream HT802 1.0.51.2", "Grandstream HT802 1.0.51.2");
	CHECK("tab\tkept", "tab\tkept");
	CHECK("caf\xc3\xa9", "caf\xc3\xa9");                 /* U+00E9 */
	CHECK("\xe2\x82\xac 5", "\xe2\x82\xac 5");           /* U+20AC */
	CHECK("\xf0\x9f\x93\x9e", "\xf0\x9f\x93\x9e");       /* U+1F4DE */
	CHECK("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");       /* U+10FFFF */
	CHECK("\xed\x9f\xbf", "\xed\x9f\xbf");               /* U+D7FF */
	CHECK("\xee\x80\x80", "\xee\x80\x80");               /* U+E000 */
	CHECK(FFFD, FFFD);
	CHECK("\xc2\x80", "\xc2\x80");     /* U+0080, a C1 code: valid */
}


static void invalid_bytes_become_fffd(void **state)
{
	(void)state;

	/* the report's User-Agent */
	CHECK("\xff\xfe", FFFD FFFD);
	CHECK("ab\xff", "ab" FFFD);
	CHECK("\x80 stray continuation", FFFD " stray continuation");
	CHECK("\xbf\x80", FFFD FFFD);
	CHECK("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD); /* 5-byte */
	CHECK("\xfe", FFFD);
}


static void overlong_forms_are_refused(void **state)
{
	(void)state;

	CHECK("\xc0\xaf", FFFD FFFD);               /* '/' in two bytes  */
	CHECK("\xc1\xbf", FFFD FFFD);
	CHECK("\xc0\x80", FFFD FFFD);               /* "modified" NUL    */
	CHECK("\xe0\x80\xaf", FFFD FFFD FFFD);      /* '/' in three      */
	CHECK("\xe0\x9f\xbf", FFFD FFFD FFFD);      /* U+07FF in three   */
	CHECK("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);
	CHECK("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD);  /* U+FFFF in 4  */
}


static void surrogates_are_refused(void **state)
{
	(void)state;

	CHECK("\xed\xa0\x80", FFFD FFFD FFFD);      /* U+D800 */
	CHECK("\xed\xbf\xbf", FFFD FFFD FFFD);      /* U+DFFF */
	/* a CESU-8 pair for U+1F4DE */
	CHECK("\xed\xa0\xbd\xed\xb3\x9e", FFFD FFFD FFFD FFFD FFFD FFFD);
}


static void beyond_10ffff_is_refused(void **state)
{
	(void)state;

	CHECK("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);  /* U+110000 */
	CHECK("\xf7\xbf\xbf\xbf", FFFD FFFD FFFD FFFD);
}


static void truncated_sequences(void **state)
{
	(void)state;

	/* cut by the end of the input */
	CHECK("x\xc3", "x" FFFD);
	CHECK("x\xe2\x82", "x" FFFD FFFD);
	CHECK("x\xf0\x9f\x93", "x" FFFD FFFD FFFD);
	/* cut by another character: that character survives */
	CHECK("\xe2\x82" "a", FFFD FFFD "a");
	CHECK("\xf0\x9f" "\xc3\xa9", FFFD FFFD "\xc3\xa9");

	/* the length given is the end, not the NUL */
	check("caf\xc3\xa9", 4, "caf" FFFD);
}


static void controls_and_nul(void **state)
{
	(void)state;

	CHECK("a\0b", "a" FFFD "b");
	CHECK("line\r\nbreak", "line" FFFD FFFD "break");
	CHECK("\x01\x1b[31mred\x7f", FFFD FFFD "[31mred" FFFD);
}


static void args_and_json(void **state)
{
	char *out = NULL;
	json_t *js;
	(void)state;

	assert_int_equal(EINVAL, utf8_clean(NULL, "a", 1));
	assert_int_equal(EINVAL, utf8_clean(&out, NULL, 1));
	assert_int_equal(0, utf8_clean(&out, NULL, 0));
	assert_string_equal("", out);
	out = mem_deref(out);

	assert_int_equal(0, utf8_len(NULL, 1));
	assert_int_equal(0, utf8_len((const uint8_t *)"a", 0));
	assert_int_equal(1, utf8_len((const uint8_t *)"a", 1));
	assert_int_equal(2, utf8_len((const uint8_t *)"\xc3\xa9", 2));
	assert_int_equal(0, utf8_len((const uint8_t *)"\xc3\xa9", 1));
	assert_int_equal(4, utf8_len((const uint8_t *)"\xf0\x9f\x93\x9e", 4));

	/* utf8_json(): valid as it is, cleaned if not, null for NULL */
	js = utf8_json("caf\xc3\xa9");
	assert_string_equal("caf\xc3\xa9", json_string_value(js));
	json_decref(js);

	js = utf8_json("ua \xff\xfe");
	assert_non_null(js);
	assert_string_equal("ua " FFFD FFFD, json_string_value(js));
	json_decref(js);

	js = utf8_json(NULL);
	assert_true(json_is_null(js));
	json_decref(js);

	/* utf8_valid(): what JSON takes as it is, controls included */
	assert_true(utf8_valid(""));
	assert_true(utf8_valid("caf\xc3\xa9 \xf0\x9f\x93\x9e\r\n"));
	assert_false(utf8_valid(NULL));
	assert_false(utf8_valid("ua \xff"));
	assert_false(utf8_valid("\xc3"));
	assert_false(utf8_valid("\xed\xa0\x80"));
}


/* Byte strings of one to three bytes, a spread of them: each cleans to
   something JSON takes, and what jansson takes as it is stays as it is
   (unless it holds a control character) */
static void exhaustive_short(void **state)
{
	uint8_t buf[3];
	char *out = NULL;
	uint32_t v;
	(void)state;

	for (v = 0; v < (1u << 24); v += 211) {
		json_t *js, *orig;
		size_t n = 1 + v % 3, i;
		bool ctl = false;

		buf[0] = (uint8_t)(v >> 16);
		buf[1] = (uint8_t)(v >> 8);
		buf[2] = (uint8_t)v;
		for (i = 0; i < n; i++)
			ctl |= (buf[i] < 0x20 && buf[i] != '\t') ||
				buf[i] == 0x7f;

		assert_int_equal(0, utf8_clean(&out, (char *)buf, n));
		js = json_string(out);
		assert_non_null(js);
		json_decref(js);

		orig = json_stringn((char *)buf, n);
		if (orig && !ctl) {
			assert_int_equal(n, strlen(out));
			assert_memory_equal(buf, out, n);
		}
		json_decref(orig);
		out = mem_deref(out);
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_text_is_kept),
		cmocka_unit_test(invalid_bytes_become_fffd),
		cmocka_unit_test(overlong_forms_are_refused),
		cmocka_unit_test(surrogates_are_refused),
		cmocka_unit_test(beyond_10ffff_is_refused),
		cmocka_unit_test(truncated_sequences),
		cmocka_unit_test(controls_and_nul),
		cmocka_unit_test(args_and_json),
		cmocka_unit_test(exhaustive_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
