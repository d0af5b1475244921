/**
 * @file loglevel.c  How much the service says: debug, info, warning, error
 *
 *   debug    SIP messages in full, audio and delivery details
 *   info     calls, lines, clients: every state change (the default)
 *   warning  retries, refusals, audio trouble
 *   error    what failed: calls, storage, connections
 *
 * Set with httpctl_log_level, at run time with the console command
 * /loglevel or POST /api/v1/log {"level":"debug"}. The level is
 * baresip's own, so it governs baresip's lines and libwebsockets' too.
 * GET/POST /api/v1/log is in api/log.c.
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


static const char *const namev[] = {
	[LEVEL_DEBUG] = "debug",
	[LEVEL_INFO]  = "info",
	[LEVEL_WARN]  = "warning",
	[LEVEL_ERROR] = "error",
};


/** The name of the current level */
const char *loglevel_name(void)
{
	enum log_level lvl = log_level_get();

	return lvl <= LEVEL_ERROR ? namev[lvl] : "?";
}


/**
 * Set the level by name
 *
 * @param name  "debug", "info", "warning" (or "warn") or "error"
 *
 * @return 0 if success, EINVAL for another name
 */
int loglevel_set(const char *name)
{
	size_t i;

	if (0 == str_casecmp(name, "warn"))
		name = "warning";

	for (i = 0; i < ARRAY_SIZE(namev); i++) {
		if (str_casecmp(name, namev[i]))
			continue;

		/* said at warning, before a switch to error would hide it */
		if (i == LEVEL_ERROR)
			warning("httpctl: log level is now %s\n", namev[i]);
		log_level_set((enum log_level)i);
		if (i != LEVEL_ERROR)
			warning("httpctl: log level is now %s\n", namev[i]);

		return 0;
	}

	return EINVAL;
}


/** Apply httpctl_log_level, if set */
int loglevel_read(const struct conf *conf)
{
	char name[16];

	if (conf_get_str(conf, "httpctl_log_level", name, sizeof(name)))
		return 0;

	if (loglevel_set(name)) {
		warning("httpctl: httpctl_log_level: '%s' is not debug, info,"
			" warning or error\n", name);
		return EINVAL;
	}

	return 0;
}
