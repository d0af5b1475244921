/**
 * @file health.c  REST: GET /api/v1/health and GET /metrics
 *
 *   GET /api/v1/health   the health object (health.c); a token, as every
 *                        /api/v1 request. 200 whatever the status: the
 *                        body says ok or degraded, and why
 *   GET /metrics         Prometheus text (metrics.c). httpctl_metrics
 *                        token (default): a bearer token is needed;
 *                        loopback: a client on 127.0.0.0/8 or ::1 needs
 *                        none (a token works from anywhere). The router
 *                        checks it (API_TOKEN, API_LOOPBACK)
 *
 * GET /healthz (the core's) stays the liveness probe, without a token.
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


static const char metrics_ctype[] = "text/plain; version=0.0.4;"
	" charset=utf-8";


static void get_health(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	json_t *h = health_encode(ctl);

	if (!h) {
		api_error(req, 500, "internal_error", "out of memory");
		return;
	}

	api_reply(req, 200, h);
}


static void get_metrics(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;

	if (api_reply_text(req, 200, metrics_ctype, "%H", metrics_print,
			   ctl))
		api_error(req, 500, "internal_error",
			  "could not print the metrics");
}


/** Add the /api/v1/health and /metrics routes */
int api_health_register(struct httpctl *ctl)
{
	int err;

	err  = api_route(ctl->core->api, "GET", "/api/v1/health", 0,
			 get_health, ctl);
	err |= api_route(ctl->core->api, "GET", "/metrics", API_TOKEN |
			 (ctl->health.metrics_loopback ? API_LOOPBACK : 0),
			 get_metrics, ctl);

	return err;
}
