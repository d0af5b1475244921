/**
 * @file test_audio.c  The audio contract: a call's device name, the
 *                     phone's frame sizes, the WebSocket format names
 */

#include "unit.h"
#include "sipphone.h"


static void frame_sizes_follow_the_phone_format(void **state)
{
	(void)state;

	assert_int_equal(8000, AUDIO_SRATE);
	assert_int_equal(1, AUDIO_CH);
	assert_int_equal(20, AUDIO_PTIME);
	assert_int_equal(160, AUDIO_SAMPC);
	assert_int_equal(160, AUDIO_PCMU_SIZE);
	assert_int_equal(320, AUDIO_L16_SIZE);
}


static void device_name_round_trips(void **state)
{
	struct pl line, callid;
	char *dev = NULL;
	(void)state;

	assert_int_equal(0, calldev_print(&dev, "1234", "call_0a1b2c3d4e5f"));
	assert_string_equal("1234/call_0a1b2c3d4e5f", dev);

	assert_int_equal(0, calldev_parse(dev, &line, &callid));
	assert_int_equal(0, pl_strcmp(&line, "1234"));
	assert_int_equal(0, pl_strcmp(&callid, "call_0a1b2c3d4e5f"));
	mem_deref(dev);

	/* a SIP user part may hold a slash; a call id never does */
	assert_int_equal(0, calldev_print(&dev, "a/b", "call_ff"));
	assert_int_equal(0, calldev_parse(dev, &line, &callid));
	assert_int_equal(0, pl_strcmp(&line, "a/b"));
	assert_int_equal(0, pl_strcmp(&callid, "call_ff"));
	mem_deref(dev);
}


static void print_refuses_what_parse_would(void **state)
{
	char *dev = NULL;
	(void)state;

	assert_int_equal(EINVAL, calldev_print(NULL, "1234", "call_00"));
	assert_int_equal(EINVAL, calldev_print(&dev, NULL, "call_00"));
	assert_int_equal(EINVAL, calldev_print(&dev, "", "call_00"));
	assert_int_equal(EINVAL, calldev_print(&dev, "1234", NULL));
	assert_int_equal(EINVAL, calldev_print(&dev, "1234", "call_"));
	assert_int_equal(EINVAL, calldev_print(&dev, "1234", "call_0G"));
	assert_int_equal(EINVAL, calldev_print(&dev, "1234", "evt_00"));
	assert_int_equal(EINVAL, calldev_print(&dev, "1234", "x/call_00"));
	assert_null(dev);
}


static void parse_refuses_other_devices(void **state)
{
	static const char *const devv[] = {
		"",                  /* the config's empty device        */
		"none",              /* audio_source wsaudio,none        */
		"alert",             /* menu.so's ring tones             */
		"/call_00",          /* no line                          */
		"1234/",             /* no call                          */
		"1234/call_",        /* no hex                           */
		"1234/call_0A",      /* ids are lowercase                */
		"1234/call_00 ",
		"1234/call_00/x",    /* the call id comes last           */
		"1234/ws_00",        /* a session's id, not a call's     */
		"1234/xcall_00",
	};
	struct pl line = PL("unset"), callid = PL("unset");
	size_t i;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(devv); i++) {
		assert_int_equal(EBADMSG, calldev_parse(devv[i], &line,
							&callid));
	}

	/* nothing is returned from a refused name */
	assert_int_equal(0, pl_strcmp(&line, "unset"));
	assert_int_equal(0, pl_strcmp(&callid, "unset"));

	assert_int_equal(EINVAL, calldev_parse(NULL, &line, &callid));
	assert_int_equal(EINVAL, calldev_parse("1/call_00", NULL, &callid));
	assert_int_equal(EINVAL, calldev_parse("1/call_00", &line, NULL));
}


static void format_names(void **state)
{
	static const struct {
		const char *name;
		enum ws_audio fmt;
	} testv[] = {
		{"pcmu", WS_AUDIO_PCMU},
		{"PCMU", WS_AUDIO_PCMU},
		{"l16",  WS_AUDIO_L16},
		{"L16",  WS_AUDIO_L16},
		{"none", WS_AUDIO_NONE},
	};
	enum ws_audio fmt;
	struct pl pl;
	size_t i;
	(void)state;

	for (i = 0; i < ARRAY_SIZE(testv); i++) {
		pl_set_str(&pl, testv[i].name);
		fmt = (enum ws_audio)-1;
		assert_int_equal(0, ws_audio_decode(&fmt, &pl));
		assert_int_equal(testv[i].fmt, fmt);
	}

	assert_string_equal("pcmu", ws_audio_name(WS_AUDIO_PCMU));
	assert_string_equal("l16", ws_audio_name(WS_AUDIO_L16));
	assert_string_equal("none", ws_audio_name(WS_AUDIO_NONE));
	assert_string_equal("none", ws_audio_name((enum ws_audio)42));
	assert_int_equal(WS_AUDIO_PCMU, WS_AUDIO_DEFAULT);

	fmt = WS_AUDIO_L16;
	pl_set_str(&pl, "pcm");
	assert_int_equal(EINVAL, ws_audio_decode(&fmt, &pl));
	pl_set_str(&pl, "pcmux");
	assert_int_equal(EINVAL, ws_audio_decode(&fmt, &pl));
	pl_set_str(&pl, "");
	assert_int_equal(EINVAL, ws_audio_decode(&fmt, &pl));
	assert_int_equal(WS_AUDIO_L16, fmt);
	assert_int_equal(EINVAL, ws_audio_decode(NULL, &pl));
	assert_int_equal(EINVAL, ws_audio_decode(&fmt, NULL));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame_sizes_follow_the_phone_format),
		cmocka_unit_test(device_name_round_trips),
		cmocka_unit_test(print_refuses_what_parse_would),
		cmocka_unit_test(parse_refuses_other_devices),
		cmocka_unit_test(format_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
