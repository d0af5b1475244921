/**
 * @file jx.c  Small jansson helpers for building API objects
 */

#include "sipphone.h"


/** A JSON string, or null when s is NULL */
json_t *jx_str(const char *s)
{
	return s ? json_string(s) : json_null();
}


/** An RFC 3339 time string, or null for time 0 (never) */
json_t *jx_time(uint64_t unix_ms)
{
	char buf[SPTIME_STRLEN];

	if (!unix_ms || sptime_fmt(buf, sizeof(buf), unix_ms))
		return json_null();

	return json_string(buf);
}


/**
 * Serialize compactly into a libre string (free with mem_deref)
 *
 * @param strp  Returned string
 * @param json  Value to serialize
 *
 * @return 0 if success, otherwise errorcode
 */
int jx_dumps(char **strp, const json_t *json)
{
	char *s;
	int err;

	if (!strp || !json)
		return EINVAL;

	s = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		return ENOMEM;

	err = str_dup(strp, s);
	free(s);

	return err;
}


/* jansson's output handed on as it comes */
static int dump_handler(const char *buf, size_t size, void *arg)
{
	struct re_printf *pf = arg;

	return pf->vph(buf, size, pf->arg) ? -1 : 0;
}


/**
 * Print a JSON value compactly, as jx_dumps() would, with no string in
 * between (a re_printf handler for %H)
 *
 * @param pf    Print handler
 * @param json  Value to print
 *
 * @return 0 if success, otherwise errorcode
 */
int jx_print(struct re_printf *pf, const json_t *json)
{
	if (!pf || !json)
		return EINVAL;

	return json_dump_callback(json, dump_handler, pf,
				  JSON_COMPACT | JSON_ENCODE_ANY) ? ENOMEM : 0;
}
