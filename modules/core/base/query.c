/**
 * @file query.c  Reading "a=1&b=2" query strings (already URL-decoded)
 */

#include "sipphone.h"


/**
 * A query parameter
 *
 * @param query  The query string, may be NULL
 * @param name   Parameter name
 * @param val    Returned value (points into query); empty for "name"
 *
 * @return 0 if found, ENOENT if absent
 */
int query_get(const char *query, const char *name, struct pl *val)
{
	struct pl rest, item, n, v;

	if (!str_isset(name) || !val)
		return EINVAL;

	pl_set_str(&rest, query);
	while (rest.l) {
		const char *amp = pl_strchr(&rest, '&');

		item.p = rest.p;
		item.l = amp ? (size_t)(amp - rest.p) : rest.l;

		if (0 == re_regex(item.p, item.l, "[^=]+=[^]*", &n, &v) &&
		    0 == pl_strcmp(&n, name)) {
			*val = v;
			return 0;
		}
		if (0 == pl_strcmp(&item, name)) {
			val->p = item.p + item.l;
			val->l = 0;
			return 0;
		}

		if (!amp)
			break;
		rest.p = amp + 1;
		rest.l -= item.l + 1;
	}

	return ENOENT;
}


/**
 * An unsigned integer query parameter
 *
 * @param query  The query string
 * @param name   Parameter name
 * @param valp   Returned value, untouched when the parameter is absent
 *
 * @return 0 if found or absent, EINVAL if it is not an unsigned integer
 */
int query_u64(const char *query, const char *name, uint64_t *valp)
{
	struct pl v;
	uint64_t n = 0;
	size_t i;

	if (query_get(query, name, &v))
		return 0;

	if (!v.l || v.l > 19)
		return EINVAL;

	for (i = 0; i < v.l; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return EINVAL;
		n = n * 10 + (uint64_t)(v.p[i] - '0');
	}

	*valp = n;

	return 0;
}
