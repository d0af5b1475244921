/**
 * @file fuzz_wscmd.c  WebSocket command messages (core/ws/wscmd.c)
 *
 * Input: one text message from a client. Two commands exist, so that
 * messages naming one reach the argument checks.
 */

#include "sipphone.h"
#include "fuzz.h"


static const void *find_handler(const char *name, void *arg)
{
	(void)arg;

	if (0 == str_cmp(name, "answer") || 0 == str_cmp(name, "dial"))
		return name;

	return NULL;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wscmd cmd;
	struct sp_err err;

	(void)wscmd_decode(&cmd, (const char *)data, size, find_handler,
			   NULL, &err);
	wscmd_reset(&cmd);

	return 0;
}
