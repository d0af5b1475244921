/**
 * @file linecfg.c  The line table's config keys
 *
 \verbatim
  httpctl_lines_max     64      # lines, registered or not (1-4096)
  httpctl_lines_keep    86400   # s an unregistered line stays listed
 \endverbatim
 *
 * A value that is not a number in range stops the service at start.
 */

#include "sipphone.h"
#include "sip/sip.h"


enum {
	LINES_MAX_LIMIT = 4096,
	LINES_KEEP_LIMIT = 365 * 86400,
};


/* A number of one to ten digits, nothing else */
static int cfg_u32(const struct conf *conf, const char *key, uint32_t *valp,
		   uint32_t lo, uint32_t hi)
{
	struct pl val, num;

	if (conf_get(conf, key, &val))
		return 0;

	if (re_regex(val.p, val.l, "[0-9]+", &num) || num.l != val.l ||
	    val.l > 10 || pl_u64(&val) < lo || pl_u64(&val) > hi) {
		warning("httpctl: %s: '%r' is not a number from %u to %u\n",
			key, &val, lo, hi);
		return EINVAL;
	}

	*valp = (uint32_t)pl_u64(&val);

	return 0;
}


/**
 * Read the line table's bounds: httpctl_lines_max, httpctl_lines_keep
 *
 * @param cfg   Returned bounds (the defaults for keys not set)
 * @param conf  baresip's config
 *
 * @return 0 if success, EINVAL for a bad value (logged)
 */
int lines_cfg_read(struct lines_cfg *cfg, const struct conf *conf)
{
	int err;

	if (!cfg)
		return EINVAL;

	cfg->max = LINES_MAX_DFLT;
	cfg->keep_s = LINES_KEEP_DFLT;

	err  = cfg_u32(conf, "httpctl_lines_max", &cfg->max, 1,
		       LINES_MAX_LIMIT);
	err |= cfg_u32(conf, "httpctl_lines_keep", &cfg->keep_s, 0,
		       LINES_KEEP_LIMIT);

	return err ? EINVAL : 0;
}
