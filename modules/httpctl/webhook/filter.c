/**
 * @file filter.c  Webhook filters: the event types an endpoint wants
 *
 * A filter is an exact type ("call.ended"), a prefix wildcard ("call.*":
 * every type that starts with "call.") or "*" (every type). A type is
 * lowercase words of a-z, 0-9 and _ joined by single dots.
 *
 * webhook.test is never matched by a filter, not even "*": a test goes
 * only to the endpoint it was asked for (see deliver.c).
 *
 * Pure functions: no state, no thread of their own.
 */

#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	FILTER_LEN_MAX = 128,
};

static const char webhook_test[] = "webhook.test";


static bool type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}


/* "call.ended": lowercase words joined by single dots */
static bool type_valid(const char *s, size_t len)
{
	size_t i;

	if (!len || s[0] == '.' || s[len - 1] == '.')
		return false;

	for (i = 0; i < len; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !type_char(s[i]))
			return false;
	}

	return true;
}


/**
 * Is this a filter: an exact type, "prefix.*" or "*", of at most 128
 * characters?
 *
 * @param f  The filter (NULL: no)
 *
 * @return true if it is one
 */
bool webhook_filter_valid(const char *f)
{
	size_t len = str_len(f);

	if (!len || len > FILTER_LEN_MAX)
		return false;

	if (0 == strcmp(f, "*"))
		return true;

	if (len > 2 && 0 == strcmp(f + len - 2, ".*"))
		return type_valid(f, len - 2);

	return type_valid(f, len);
}


static bool filter_match(const char *f, const char *type)
{
	size_t len = strlen(f);

	if (0 == strcmp(f, "*"))
		return true;

	/* "call.*" is the prefix "call." */
	if (len > 2 && f[len - 1] == '*')
		return 0 == strncmp(f, type, len - 1);

	return 0 == strcmp(f, type);
}


/**
 * Does an endpoint want events of this type?
 *
 * @param wh    Endpoint
 * @param type  Event type
 *
 * @return true if one of its filters matches (never for webhook.test)
 */
bool webhook_matches(const struct webhook *wh, const char *type)
{
	size_t i;

	if (!wh || !type || 0 == strcmp(type, webhook_test))
		return false;

	for (i = 0; i < json_array_size(wh->events); i++) {
		const char *f = json_string_value(json_array_get(wh->events,
								 i));

		if (f && filter_match(f, type))
			return true;
	}

	return false;
}
