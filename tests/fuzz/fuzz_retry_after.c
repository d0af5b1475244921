/**
 * @file fuzz_retry_after.c  A receiver's Retry-After (webhook/retry.c)
 *
 * Input: the header's value, delay-seconds or an HTTP date. What it
 * decodes to is then fed to the schedule, as a delivery would.
 */

#include "sipphone.h"
#include "webhook/webhook.h"
#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t now = 1796000000000ULL;  /* a fixed "now", in ms */
	uint64_t wait = 0, next = 0;
	struct pl val;

	val.p = (const char *)data;
	val.l = size;

	if (0 == whretry_after_decode(&val, now, &wait))
		(void)whretry_next(&next, 1, 0x80000000u, wait);

	return 0;
}
