/**
 * @file fuzz_query.c  Query strings (core/base/query.c)
 *
 * Input: a decoded query string as the web layer hands it on
 * ("token=...&line=100&audio=l16&after=5&limit=10").
 */

#include "sipphone.h"
#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const namev[] = {
		"token", "line", "audio", "state", "", "a=b",
	};
	char *q = fuzz_str(data, size);
	uint64_t v;
	struct pl pl;
	size_t i;

	if (!q)
		return 0;

	for (i = 0; i < ARRAY_SIZE(namev); i++)
		(void)query_get(q, namev[i], &pl);

	(void)query_u64(q, "after", &v);
	(void)query_u64(q, "limit", &v);

	mem_deref(q);

	return 0;
}
