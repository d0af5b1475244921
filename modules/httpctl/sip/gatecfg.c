/**
 * @file gatecfg.c  The config keys of SIP digest auth and the gate
 *
 \verbatim
  httpctl_sip_auth      <line>:<password>  # repeatable; with any, every
                                           # line must authenticate
  httpctl_sip_realm     <realm>            # default: the host name
  httpctl_sip_nonce_ttl 300                # s a nonce is good (1-86400)
  httpctl_sip_sha256    no                 # challenge with SHA-256 too
  httpctl_sip_rate      20/50              # datagrams/s and burst per
                                           # source; "off": no limit
 \endverbatim
 *
 * A bad value stops the service at start, with a log line that names
 * the key (and the line, never the password).
 */

#include <unistd.h>
#include "sipphone.h"
#include "sip/sip.h"


enum {
	NONCE_TTL_DFLT = 300,
	NONCE_TTL_MAX = 86400,
};

static const char rate_dflt[] = "20/50";


static int auth_handler(const struct pl *val, void *arg)
{
	struct sipauth *auth = arg;
	const char *colon = pl_strchr(val, ':');
	struct pl line;
	int err;

	err = sipauth_add(auth, val);
	if (!err)
		return 0;

	line.p = val->p;
	line.l = colon ? (size_t)(colon - val->p) : 0;

	if (err == EALREADY)
		warning("httpctl: httpctl_sip_auth: line '%r' given twice\n",
			&line);
	else if (!colon)
		warning("httpctl: httpctl_sip_auth: not <line>:<password>\n");
	else
		warning("httpctl: httpctl_sip_auth: '%r' needs a line id"
			" (1-32 of 0-9 a-z A-Z . _ - + * #) and a password\n",
			&line);

	return EINVAL;
}


static int realm_get(char *realm, size_t sz, const struct conf *conf)
{
	if (0 == conf_get_str(conf, "httpctl_sip_realm", realm, sz))
		return 0;

	if (gethostname(realm, sz) || !realm[0])
		str_ncpy(realm, "sipphone", sz);

	realm[sz - 1] = '\0';

	return 0;
}


/**
 * Read digest auth and the gate's settings, and make the authenticator
 *
 * @param cfg   Returned settings; cfg->auth is a new authenticator (with
 *              no line's credentials if none are configured: auth off)
 *              for the caller to mem_deref()
 * @param conf  baresip's config
 *
 * @return 0 if success, EINVAL for a bad value (logged)
 */
int gate_cfg_read(struct gate_cfg *cfg, const struct conf *conf)
{
	struct sipauth_cfg acfg;
	char realm[256];
	struct pl val;
	int err;

	if (!cfg)
		return EINVAL;

	memset(cfg, 0, sizeof(*cfg));

	if (conf_get(conf, "httpctl_sip_rate", &val))
		pl_set_str(&val, rate_dflt);
	if (rate_decode(&cfg->rate, &val)) {
		warning("httpctl: httpctl_sip_rate: '%r' is not"
			" <per-second>/<burst> (burst >= rate > 0) or off\n",
			&val);
		return EINVAL;
	}

	memset(&acfg, 0, sizeof(acfg));
	acfg.nonce_ttl = NONCE_TTL_DFLT;
	if (0 == conf_get(conf, "httpctl_sip_nonce_ttl", &val)) {
		uint32_t ttl = 0;
		size_t i;

		for (i = 0; i < val.l && val.l <= 5; i++) {
			if (val.p[i] < '0' || val.p[i] > '9')
				break;
			ttl = ttl * 10 + (uint32_t)(val.p[i] - '0');
		}

		if (i != val.l || val.l > 5 || !ttl || ttl > NONCE_TTL_MAX) {
			warning("httpctl: httpctl_sip_nonce_ttl: '%r' is not"
				" a number from 1 to %u\n", &val,
				NONCE_TTL_MAX);
			return EINVAL;
		}
		acfg.nonce_ttl = ttl;
	}

	if (0 == conf_get(conf, "httpctl_sip_sha256", &val)) {
		/* conf_get_bool() reads any other word as "no" */
		if (!pl_strcasecmp(&val, "yes")) {
			acfg.sha256 = true;
		}
		else if (pl_strcasecmp(&val, "no")) {
			warning("httpctl: httpctl_sip_sha256: '%r' is not yes"
				" or no\n", &val);
			return EINVAL;
		}
	}

	(void)realm_get(realm, sizeof(realm), conf);
	acfg.realm = realm;

	err = sipauth_alloc(&cfg->auth, &acfg);
	if (err == EINVAL) {
		warning("httpctl: httpctl_sip_realm: '%s' is empty, longer"
			" than 128 or holds a quote, backslash or control"
			" character\n", realm);
		return EINVAL;
	}
	else if (err) {
		return err;
	}

	err = conf_apply(conf, "httpctl_sip_auth", auth_handler, cfg->auth);
	if (err) {
		cfg->auth = mem_deref(cfg->auth);
		return EINVAL;
	}

	if (sipauth_on(cfg->auth))
		info("httpctl: SIP digest auth on, realm \"%s\"\n", realm);

	return 0;
}
