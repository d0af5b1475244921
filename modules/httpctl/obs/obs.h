/**
 * @file obs.h  Observability: health, metrics, log level, console commands,
 *              systemd's notifications
 *
 * Threads: main thread only.
 */

#ifndef HTTPCTL_OBS_H
#define HTTPCTL_OBS_H

struct httpctl;
struct webhook;


/*
 * Log level (loglevel.c): config, console and REST (api/log.c)
 */

const char *loglevel_name(void);
int  loglevel_set(const char *name);
int  loglevel_read(const struct conf *conf);


/*
 * Console (console.c): baresip console commands for debugging
 */

int  console_register(struct httpctl *ctl);
void console_unregister(void);


/*
 * systemd (sdnotify.c): READY=1, STATUS= lines and calls, WATCHDOG=1 pings
 * from the main loop, STOPPING=1; nothing without $NOTIFY_SOCKET
 */

struct sdnotify;

int  sdnotify_alloc(struct sdnotify **snp, struct httpctl *ctl);


/*
 * Health (health.c): GET /api/v1/health's object and why it is degraded;
 * metrics (metrics.c, metrics_label.c): the Prometheus text; both served
 * by api/health.c
 */

/** Health and metrics settings */
struct health_cfg {
	bool metrics_loopback; /* /metrics: no token needed from loopback */
	uint32_t loss_pct;     /* a call losing more is "degraded"        */
};

/** The webhook endpoints at a glance */
struct health_webhooks {
	uint32_t enabled;
	uint32_t disabled;
	uint32_t failing;      /* enabled, and the last attempt failed    */
	uint64_t pending;      /* events waiting, all enabled endpoints   */
	bool pending_more;     /* a backlog too long to count: more       */
	uint64_t oldest_ms;    /* unix ms of the oldest waiting; 0: none  */
};

int  health_cfg_read(struct health_cfg *cfg, const struct conf *conf);
void health_webhooks(struct httpctl *ctl, struct health_webhooks *hw);
bool health_webhook_failing(const struct webhook *wh);
json_t *health_reasons(struct httpctl *ctl, const struct health_webhooks *hw);
json_t *health_encode(struct httpctl *ctl);
int  metrics_print(struct re_printf *pf, struct httpctl *ctl);
int  metrics_label_print(struct re_printf *pf, const char *v);

#endif
