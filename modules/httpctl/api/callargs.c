/**
 * @file callargs.c  The arguments of the call operations, checked
 *
 * What callops.c can refuse before it looks at a line or a call: the
 * types and ranges of the fields a request names. Pure functions (no
 * state, no baresip), so the same checks are fuzzed alone
 * (tests/fuzz/fuzz_rest.c).
 *
 * Threads: any (they touch nothing but their arguments).
 */

#include "sipphone.h"
#include "sip/sip.h"
#include "api/api.h"


enum {
	RING_MAX_S = 600,
};


/* "caller":{"name":"Front door","number":"200"}: either may be absent
   or null (the default's is kept) */
static int caller_read(const json_t *jcaller, struct caller *caller,
		       struct sp_err *err)
{
	const json_t *jname, *jnum;

	if (!jcaller || json_is_null(jcaller))
		return 0;

	if (!json_is_object(jcaller))
		return sp_err_set(err, 400, "invalid_field",
				  "\"caller\" must be an object");

	jname = json_object_get(jcaller, "name");
	jnum = json_object_get(jcaller, "number");
	if ((jname && !json_is_null(jname) && !json_is_string(jname)) ||
	    (jnum && !json_is_null(jnum) && !json_is_string(jnum)) ||
	    caller_set(caller, json_string_value(jname),
		       json_string_value(jnum)))
		return sp_err_set(err, 400, "invalid_field",
				  "\"caller\": \"name\" is 1 to %d bytes"
				  " without control characters, '\"' or"
				  " '\\', \"number\" 1 to %d of 0-9 * # +",
				  CALLER_NAME_MAX, CALLER_NUMBER_MAX);

	return 0;
}


/**
 * Check the arguments of a dial: {"line":"100", "ring_timeout_s":60,
 * "caller":{"name":"Front door","number":"200"}}, all optional (a null
 * line: the only registered one)
 *
 * @param args     Arguments (any JSON value; a non-object has none)
 * @param deflt    The default caller ID
 * @param ring_sp  Returned ring timeout, seconds
 * @param caller   Returned caller ID: the default's, with what args set
 * @param err      Why not
 *
 * @return 0 if they are fine, otherwise errorcode (err says why)
 */
int callargs_dial(const json_t *args, const struct caller *deflt,
		  uint32_t *ring_sp, struct caller *caller,
		  struct sp_err *err)
{
	const json_t *jring = json_object_get(args, "ring_timeout_s");
	const json_t *jline = json_object_get(args, "line");
	json_int_t ring_s = RING_TIMEOUT_S;
	int e;

	if (!deflt || !ring_sp || !caller)
		return EINVAL;

	if (jring) {
		ring_s = json_is_integer(jring) ? json_integer_value(jring) : 0;
		if (ring_s < 1 || ring_s > RING_MAX_S)
			return sp_err_set(err, 400, "invalid_field",
					  "\"ring_timeout_s\" must be 1 to %d"
					  " seconds", RING_MAX_S);
	}

	if (jline && !json_is_null(jline) && !json_is_string(jline))
		return sp_err_set(err, 400, "invalid_field",
				  "\"line\" must be a string");

	*caller = *deflt;
	e = caller_read(json_object_get(args, "caller"), caller, err);
	if (e)
		return e;

	*ring_sp = (uint32_t)ring_s;

	return 0;
}


/**
 * Check the call an operation names: a string, or absent or null (pick
 * the only one that fits)
 *
 * @param jid  The "call" field, or NULL
 * @param err  Why not
 *
 * @return 0 if it is fine, otherwise errorcode (err says why)
 */
int callargs_call(const json_t *jid, struct sp_err *err)
{
	if (jid && !json_is_null(jid) && !json_is_string(jid))
		return sp_err_set(err, 400, "invalid_field",
				  "\"call\" must be a string");

	return 0;
}


/**
 * Check the digits of a DTMF operation
 *
 * @param jdigits  The "digits" field, or NULL
 * @param err      Why not
 *
 * @return 0 if they are 1 to 32 of 0-9 * # A-D, otherwise errorcode
 *         (err says why)
 */
int callargs_digits(const json_t *jdigits, struct sp_err *err)
{
	if (!dtmf_digits_valid(json_string_value(jdigits)))
		return sp_err_set(err, 400, "invalid_field",
				  "\"digits\" must be 1 to 32 of 0-9 * # A-D");

	return 0;
}
