/**
 * @file httpctl.c  sipphone's control plane: SIP registrar, call control
 *                  over REST, events
 *
 * An analog phone behind a Grandstream HT802 registers here (one line per
 * HT802 port). Every INVITE from a registered line reaches our user agent,
 * whatever number was dialed; the API answers it, rings the phone, sends
 * DTMF and reports it all as events. See docs/api.md.
 *
 * Load as an application module, after the account modules:
 *
 \verbatim
  module_app        httpctl.so

  httpctl_listen        0.0.0.0:8000   # REST + WebSocket
  httpctl_token         <token>        # repeatable; generated if none
  httpctl_origin        <origin>       # repeatable; browser origins
  httpctl_state_dir     <dir>          # default: <config dir>/state
  httpctl_reg_allow     <cidr,...>     # may REGISTER (repeatable);
                                       # default: private ranges and
                                       # loopback
  httpctl_reg_expires   60-3600        # accepted REGISTER expiry, s
  httpctl_sip_auth      <line>:<pass>  # repeatable; digest auth
  httpctl_sip_realm     <realm>        # default: the host name
  httpctl_sip_nonce_ttl 300            # s a nonce is good
  httpctl_sip_sha256    no             # challenge with SHA-256 too
  httpctl_sip_rate      20/50          # SIP datagrams/s, burst, per
                                       # source ("off"); see gate.c
  httpctl_lines_max     64             # lines, registered or not
  httpctl_lines_keep    86400          # s an unregistered line stays
                                       # listed
  httpctl_log_level     info           # debug, info, warning, error
  httpctl_webhook_ca    <file>         # CAs trusted for https webhooks;
                                       # default /etc/ssl/certs/
                                       # ca-certificates.crt
  httpctl_webhook_give_up     259200   # s; an endpoint gives up events
                                       # it owes older than this ...
  httpctl_webhook_backlog_max 100000   # ... or this many behind the
                                       # newest (docs/webhooks.md)
  httpctl_metrics       token          # GET /metrics: token, or
                                       # loopback (no token from
                                       # 127.0.0.0/8 or ::1)
  httpctl_loss_degraded 5              # %, a call losing more makes
                                       # /api/v1/health "degraded"
 \endverbatim
 *
 * Threads: main thread only.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"
#include "www/www.h"


static const char webhook_ca_default[] =
	"/etc/ssl/certs/ca-certificates.crt";


/* The module's one piece of state */
static struct httpctl *ctl;


static void ctl_destructor(void *arg)
{
	struct httpctl *c = arg;

	/* first: STOPPING=1, if the UAs' shutdown did not say it */
	mem_deref(c->sdnotify);
	console_unregister();
	if (c->core) {
		api_unroute_arg(c->core->api, c);
		wshub_uncommand_arg(c->core->hub, c);
		wshub_set_line_handler(c->core->hub, NULL, NULL);
	}

	/* the engine before the endpoints it runs, both before the store */
	mem_deref(c->whdeliver);
	mem_deref(c->webhooks);
	mem_deref(c->gate);
	mem_deref(c->reg);
	mem_deref(c->sipauth);
	mem_deref(c->calls);
	mem_deref(c->lines);
	mem_deref(c->core);
	/* c->ua belongs to baresip's UA list */
}


/* Our UA's address: the SIP listen address when it names one, else the
   address baresip found for this machine (what the phone sees in From) */
static int ua_create(struct ua **uap, const struct conf *conf)
{
	char listen[128] = "", *aor = NULL;
	const struct sa *local;
	struct sa laddr;
	int err;

	(void)conf_get_str(conf, "sip_listen", listen, sizeof(listen));
	if (sa_decode(&laddr, listen, strlen(listen)) ||
	    !sa_isset(&laddr, SA_ADDR)) {
		local = net_laddr_af(baresip_network(), AF_INET);
		if (local && sa_isset(local, SA_ADDR))
			laddr = *local;
		else
			sa_set_str(&laddr, "127.0.0.1", 0);
	}

	/* regint=0: we are the registrar, we register nowhere; PCMU only,
	   20 ms, as the HT802 sends */
	err = re_sdprintf(&aor, "\"sipphone\" <sip:sipphone@%j>;regint=0"
			  ";answermode=manual;ptime=20"
			  ";audio_codecs=PCMU/8000/1", &laddr);
	if (err)
		return err;

	err = ua_alloc(uap, aor);
	mem_deref(aor);
	if (err)
		return err;

	/* take every INVITE, whatever number the phone dialed */
	ua_set_catchall(*uap, true);

	return 0;
}


/* httpctl_reg_allow may repeat: its lines join into one list */
static int allow_handler(const struct pl *val, void *arg)
{
	struct mbuf *mb = arg;

	return mbuf_printf(mb, "%s%r", mb->end ? "," : "", val);
}


static int reg_cfg_read(struct reg_cfg *cfg, struct mbuf *allow,
			const struct conf *conf)
{
	struct pl rng;
	uint32_t min = 60, max = 3600;
	int err;

	/* a config value is one word: "a,b", or the key on two lines */
	err  = conf_apply(conf, "httpctl_reg_allow", allow_handler, allow);
	err |= mbuf_write_u8(allow, 0);
	if (err)
		return ENOMEM;
	cfg->allow = allow->end > 1 ? (const char *)allow->buf : NULL;

	if (0 == conf_get(conf, "httpctl_reg_expires", &rng)) {
		struct pl a, b;

		if (re_regex(rng.p, rng.l, "[0-9]+-[0-9]+", &a, &b)) {
			warning("httpctl: httpctl_reg_expires: '%r' is not"
				" MIN-MAX\n", &rng);
			return EINVAL;
		}
		min = pl_u32(&a);
		max = pl_u32(&b);
		if (!min || min > max) {
			warning("httpctl: httpctl_reg_expires: need"
				" 0 < MIN <= MAX\n");
			return EINVAL;
		}
	}

	cfg->expires_min = min;
	cfg->expires_max = max;

	return 0;
}


static int webhooks_init(struct httpctl *c, const struct conf *conf)
{
	struct whdeliver_prm prm;
	struct whretain retain;
	char ca[256];
	int err;

	if (!sp_conf_path(ca, sizeof(ca), conf, "httpctl_webhook_ca"))
		str_ncpy(ca, webhook_ca_default, sizeof(ca));

	err = whretain_cfg_read(&retain, conf);
	if (err)
		return err;

	err = webhooks_alloc(&c->webhooks, c->core->store);
	if (err) {
		warning("httpctl: webhooks: %m\n", err);
		return err;
	}

	memset(&prm, 0, sizeof(prm));
	prm.whs = c->webhooks;
	prm.bus = c->core->bus;
	prm.store = c->core->store;
	prm.ca = ca;
	prm.retain = &retain;

	err = whdeliver_alloc(&c->whdeliver, &prm);
	if (err)
		warning("httpctl: webhook delivery: %m\n", err);

	return err;
}


enum { CONF_FILE_MAX = 1 << 20 };

/* The default caller ID: from the config file's text, as the name may
   have spaces (caller.c) */
static int caller_read(struct caller *c)
{
	char path[512], *text = NULL;
	FILE *f = NULL;
	size_t n;
	int err;

	err = conf_path_get(path, sizeof(path));
	if (err)
		return err;

	if (re_snprintf(path + strlen(path), sizeof(path) - strlen(path),
			"/config") < 0)
		return ENAMETOOLONG;

	text = mem_alloc(CONF_FILE_MAX + 1, NULL);
	if (!text)
		return ENOMEM;

	f = fopen(path, "r");
	if (!f) {
		err = errno;
		warning("httpctl: %s: %m\n", path, err);
		goto out;
	}

	n = fread(text, 1, CONF_FILE_MAX, f);
	text[n] = '\0';

	err = caller_conf(c, text);

 out:
	if (f)
		(void)fclose(f);
	mem_deref(text);

	return err;
}


static int ctl_alloc(struct httpctl **ctlp)
{
	const struct conf *conf = conf_cur();
	struct mbuf *allow = mbuf_alloc(256);
	struct lines_cfg lcfg;
	struct reg_cfg rcfg;
	struct gate_cfg gcfg = {.auth = NULL};
	struct httpctl *c;
	int err;

	c = mem_zalloc(sizeof(*c), ctl_destructor);
	if (!c || !allow) {
		err = ENOMEM;
		goto out;
	}

	err = loglevel_read(conf);
	if (err)
		goto out;

	err = reg_cfg_read(&rcfg, allow, conf);
	if (err)
		goto out;

	err = lines_cfg_read(&lcfg, conf);
	if (err)
		goto out;

	err = gate_cfg_read(&gcfg, conf);
	if (err)
		goto out;
	c->sipauth = mem_ref(gcfg.auth);

	err = health_cfg_read(&c->health, conf);
	if (err)
		goto out;

	err = caller_read(&c->caller);
	if (err)
		goto out;

	err = sp_core_open(&c->core);
	if (err)
		goto out;

	err = ua_create(&c->ua, conf);
	if (err) {
		warning("httpctl: user agent: %m\n", err);
		goto out;
	}

	err = lines_alloc(&c->lines, c->core->bus, c->core->store, &lcfg);
	if (err)
		goto out;

	err = calls_alloc(&c->calls, c->ua, c->lines, c->core->bus,
			  c->core->store, uag_sip());
	if (err)
		goto out;

	rcfg.auth = c->sipauth;
	err = reg_alloc(&c->reg, uag_sip(), c->lines, &rcfg);
	if (err)
		goto out;

	err = gate_alloc(&c->gate, uag_sip(), c->lines, &gcfg);
	if (err)
		goto out;

	err = webhooks_init(c, conf);
	if (err)
		goto out;

	err  = api_status_register(c);
	err |= api_lines_register(c);
	err |= api_calls_register(c);
	err |= api_events_register(c);
	err |= api_webhooks_register(c);
	err |= api_health_register(c);
	err |= www_register(c);
	err |= api_calls_ws_register(c);
	err |= api_log_register(c);
	if (err) {
		err = ENOMEM;
		goto out;
	}

	err = console_register(c);
	if (err)
		goto out;

	/* last: READY=1 says all of the above is in place */
	err = sdnotify_alloc(&c->sdnotify, c);
	if (err)
		goto out;

 out:
	mem_deref(allow);
	mem_deref(gcfg.auth);
	if (err)
		mem_deref(c);
	else
		*ctlp = c;

	return err;
}


static int module_init(void)
{
	int err;

	err = ctl_alloc(&ctl);
	if (err) {
		/* a phone API without its API is of no use to anyone:
		   stop now rather than run a bare SIP stack */
		errlog("httpctl: cannot start (%m): exiting\n", err);
		exit(EXIT_FAILURE);
	}

	info("httpctl: ready (sipphone %s on baresip %s)\n",
	     SIPPHONE_VERSION, SIPPHONE_BARESIP_VERSION);

	return 0;
}


static int module_close(void)
{
	ctl = mem_deref(ctl);

	return 0;
}


EXPORT_SYM const struct mod_export exports = {
	"httpctl",
	"application",
	module_init,
	module_close
};
