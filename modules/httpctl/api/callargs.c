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


/**
 * Check the arguments of a dial: {"line":"100", "ring_timeout_s":60},
 * both optional (a null line: the only registered one)
 *
 * @param args     Arguments (any JSON value; a non-object has none)
 * @param ring_sp  Returned ring timeout, seconds
 * @param err      Why not
 *
 * @return 0 if they are fine, otherwise errorcode (err says why)
 */
int callargs_dial(const json_t *args, uint32_t *ring_sp, struct sp_err *err)
{
	const json_t *jring = json_object_get(args, "ring_timeout_s");
	const json_t *jline = json_object_get(args, "line");
	json_int_t ring_s = RING_TIMEOUT_S;

	if (!ring_sp)
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
